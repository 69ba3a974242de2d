#ifndef PROCSENTRY_BPF_RECORD_H
#define PROCSENTRY_BPF_RECORD_H

#include "maps.bpf.h"

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
	__sync_fetch_and_add(&lost_pending[cause], 1);
	__sync_fetch_and_add(&lost_total[cause], 1);
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
 * stream says where the gap is. The exchange makes each drop reported exactly once even
 * when several CPUs race here. */
static __always_inline void ps_report_lost(void)
{
	__u32 cause = PS_LOST_RINGBUF_FULL;

	if (!lost_pending[cause])
		return;
	struct ps_lost *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec)
		return;
	__u64 count = __atomic_exchange_n(&lost_pending[cause], 0, __ATOMIC_RELAXED);
	if (!count) {
		bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		return;
	}
	ps_header_init(&rec->hdr, PS_REC_LOST, sizeof(*rec));
	rec->count = count;
	rec->cause = cause;
	rec->reserved0 = 0;
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
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
