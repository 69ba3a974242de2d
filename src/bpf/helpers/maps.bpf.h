/* The sensor's only shared state: one MPSC ring buffer (ordered across CPUs, so the events
 * of one process arrive in causal order), load-time settings, and atomic drop counters. */
#ifndef PROCSENTRY_BPF_MAPS_H
#define PROCSENTRY_BPF_MAPS_H

#include "procsentry/wire/wire.h"

/* Size set by user space before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events __weak SEC(".maps");

/* Settings, fixed between open and load: the verifier sees them as constants. */
const volatile __u32 cfg_argv_cap __weak = PS_ARGV_DEFAULT_CAP; /* power of two */
const volatile __u64 cfg_wakeup_bytes __weak = 1 << 20;         /* wake the reader past this */

/* Drops per cause. `lost_total` only grows (atomic adds) and is read by user space at exit
 * to prove that every drop was reported; `lost_reported` is the last total put in a `lost`
 * record (a plain store: a race only repeats a total, which user space drops). */
__u64 lost_total[PS_LOST_CAUSE_MAX + 1] __weak;
__u64 lost_reported[PS_LOST_CAUSE_MAX + 1] __weak;

#endif
