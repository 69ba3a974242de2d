#ifndef PROCSENTRY_BPF_TASK_H
#define PROCSENTRY_BPF_TASK_H

#include "record.bpf.h"

/* pid is the thread-group id, tid the thread; times are CLOCK_BOOTTIME like the header. */
static __always_inline void ps_task_fill(struct ps_task *t, struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, real_cred);

	t->pid = BPF_CORE_READ(task, tgid);
	t->tid = BPF_CORE_READ(task, pid);
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->uid = BPF_CORE_READ(cred, uid.val);
	t->gid = BPF_CORE_READ(cred, gid.val);
	t->euid = BPF_CORE_READ(cred, euid.val);
	t->start_time_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	__builtin_memset(t->comm, 0, sizeof(t->comm));
	bpf_probe_read_kernel_str(t->comm, sizeof(t->comm), &task->comm);
}

#endif
