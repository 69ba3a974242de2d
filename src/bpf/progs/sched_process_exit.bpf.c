// SPDX-License-Identifier: GPL-2.0
/* exit: the last thread of a process exited. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../helpers/task.bpf.h"

static __always_inline int ps_exit_emit(struct task_struct *task)
{
	struct ps_exit *rec = ps_record_begin(sizeof(*rec), PS_REC_EXIT, sizeof(*rec));
	if (!rec)
		return 0;
	ps_task_fill(&rec->task, task);
	/* do_exit() stores the code before this tracepoint; for a group exit every thread
	 * carries the group's code, so the last thread's is the process's. */
	rec->exit_status = (__u32)BPF_CORE_READ(task, exit_code);
	rec->exit_flags = 0;
	ps_submit(rec);
	return 0;
}

/* Kernels >= 6.16 pass group_dead: exact, one record per process. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ps_sched_process_exit, struct task_struct *task, bool group_dead)
{
	if (!group_dead)
		return 0;
	return ps_exit_emit(task);
}

/* Older kernels: signal->live reaches 0 when the last thread passes atomic_dec_and_test,
 * which precedes this tracepoint. Two threads exiting at once can both see 0, so user
 * space drops a second exit of the same (pid, start time). Loaded only where the
 * group_dead argument is missing. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ps_sched_process_exit_live, struct task_struct *task)
{
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	return ps_exit_emit(task);
}

char LICENSE[] SEC("license") = "GPL";
