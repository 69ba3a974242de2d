// SPDX-License-Identifier: GPL-2.0
/* fork: a new process (a clone that shares the thread group is a thread, not reported). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../helpers/task.bpf.h"

/* Runs in the parent before the child is first woken, so the fork record is reserved
 * before anything the child does: fork precedes the child's exec and exit in the stream. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ps_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;

	struct ps_fork *rec = ps_record_begin(sizeof(*rec), PS_REC_FORK, sizeof(*rec));
	if (!rec)
		return 0;
	ps_task_fill(&rec->task, child);
	rec->parent_pid = BPF_CORE_READ(parent, tgid);
	rec->parent_tid = BPF_CORE_READ(parent, pid);
	rec->parent_start_time_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
	ps_submit(rec);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
