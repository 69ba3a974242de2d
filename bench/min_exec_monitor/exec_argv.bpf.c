// SPDX-License-Identifier: GPL-2.0
/* The reference peer for storm_bench: the simplest useful exec monitor (execsnoop's simplest
 * form). One record per exec with the pid and argv, submitted with a wakeup each. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "min_exec_monitor.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

__u64 lost; /* records the ring had no room for, read by user space at exit */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(min_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct min_exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	e->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	__u64 start = BPF_CORE_READ(task, mm, arg_start);
	__u64 len = BPF_CORE_READ(task, mm, arg_end) - start;
	if (len > MIN_EXEC_ARGS_MAX)
		len = MIN_EXEC_ARGS_MAX;
	if (bpf_probe_read_user(e->args, len, (const void *)start) != 0)
		len = 0;
	e->args_size = (__u32)len;
	bpf_ringbuf_submit(e, 0); /* default: wake the reader for every record */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
