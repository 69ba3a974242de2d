#ifndef PROCSENTRY_BPF_RECORD_H
#define PROCSENTRY_BPF_RECORD_H

#include "maps.bpf.h"

/* After a bounds check, makes the compiler index with the very register that was checked
 * (instead of re-deriving it from its parts, which the verifier cannot follow). */
#define ps_barrier_var(v) asm volatile("" : "+r"(v))

/* min(v, max) computed in the one 64-bit register the caller then indexes with. After a
 * bounds check in C the compiler may compare one copy of a value and index with another;
 * verifiers before 5.11 do not carry a bound from a register to its copies, so the check is
 * lost on them. Where the check already holds this changes nothing at run time. */
static __always_inline __u64 ps_bound(__u64 v, __u64 max)
{
	asm volatile("if %[v] <= %[m] goto +1; %[v] = %[m]" : [v] "+r"(v) : [m] "r"(max));
	return v;
}

/* Copies a measurement through a helper, so the verifier sees an unknown value within the
 * checks that follow instead of the exact range each loop exit produced. Without it, every
 * way a bounded loop can end is a state of its own, and the rest of the program is verified
 * once per combination of them (a bounded loop on a 5.x kernel, or bpf_loop on 6.x, which
 * re-verifies the callback while its state changes). */
static __always_inline void ps_launder(void *dst, const void *src, __u32 size)
{
	bpf_probe_read_kernel(dst, size, src);
}

/* A subprogram's result read back from where it was written: the value is unknown to the
 * verifier (one state for the caller) and the compiler cannot fold it away (clang drops a
 * static function's return value it can predict, and the verifier insists on one). */
#define ps_read_back(lvalue) (*(volatile __u32 *)&(lvalue))

static __always_inline void ps_header_init(struct ps_header *hdr, __u8 type, __u32 size)
{
	hdr->magic = PS_WIRE_MAGIC;
	hdr->version = PS_WIRE_VERSION;
	hdr->type = type;
	hdr->size = size;
	hdr->timestamp_ns = bpf_ktime_get_boot_ns();
	hdr->clock = PS_CLOCK_BOOTTIME;
	hdr->reserved0[0] = 0;
	hdr->reserved0[1] = 0;
	hdr->reserved0[2] = 0;
	hdr->cpu = bpf_get_smp_processor_id();
}

static __always_inline void ps_count_drop(__u32 cause)
{
	if (cause > PS_LOST_CAUSE_MAX)
		return;
	__sync_fetch_and_add(&lost_total[cause], 1); /* no fetch: a plain XADD, as old as BPF */
}

/* Wake the reader only when enough data waits: user space also polls with a short timeout,
 * so a quiet machine still sees each event within that timeout, and a storm costs one
 * wakeup per batch instead of one per event. */
static __always_inline __u64 ps_wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
										   : BPF_RB_NO_WAKEUP;
}

/* Reports drops as soon as there is room again, ahead of the event being built, so the
 * stream says where the gap is. The record carries the cause's running total, not a delta:
 * taking a delta exactly once needs an atomic exchange, which kernels before 5.12 lack (their
 * verifier refuses the instruction even in dead code). Two CPUs racing here may both report
 * the same total; user space (RingBufferSource) turns totals into deltas and drops repeats. */
static __always_inline void ps_report_lost(void)
{
	__u32 cause = PS_LOST_RINGBUF_FULL;
	__u64 total = lost_total[cause];

	if (total == lost_reported[cause])
		return;
	struct ps_lost *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec)
		return;
	ps_header_init(&rec->hdr, PS_REC_LOST, sizeof(*rec));
	rec->count = total;
	rec->cause = cause;
	rec->lost_flags = PS_LOST_RUNNING_TOTAL;
	lost_reported[cause] = total;
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/* Reserves `size` bytes (a constant after inlining: the verifier wants one). A full ring
 * buffer counts a drop, which the next program that finds room reports (ps_report_lost). */
static __always_inline void *ps_reserve(__u64 size)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);

	if (!rec)
		ps_count_drop(PS_LOST_RINGBUF_FULL);
	return rec;
}

/* The opening every program shares: pending drops first (so the stream shows the gap before
 * this event), then the reservation and its header. NULL: the buffer was full (counted). */
static __always_inline void *ps_record_begin(__u64 size, __u8 type, __u32 hdr_size)
{
	ps_report_lost();
	struct ps_header *hdr = ps_reserve(size);

	if (hdr)
		ps_header_init(hdr, type, hdr_size);
	return hdr;
}

static __always_inline void ps_submit(void *rec)
{
	bpf_ringbuf_submit(rec, ps_wakeup_flag());
}

static __always_inline void ps_str_set(struct ps_str *s, __u32 offset, __u32 length, __u32 original,
				       __u16 flags)
{
	s->offset = offset;
	s->length = length;
	s->original_length = original;
	s->flags = flags;
	s->reserved0 = 0;
}

static __always_inline void ps_str_absent(struct ps_str *s)
{
	ps_str_set(s, 0, 0, 0, 0);
}

#endif
