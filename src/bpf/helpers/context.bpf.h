#ifndef PROCSENTRY_BPF_CONTEXT_H
#define PROCSENTRY_BPF_CONTEXT_H

#include "record.bpf.h"

/* Audit fields exist only with CONFIG_AUDIT; CO-RE tells us at load time. */
struct task_struct___audit {
	kuid_t loginuid;
	unsigned int sessionid;
} __attribute__((preserve_access_index));

/* The exec'ing task's context. Runs in the task itself (sched_process_exec), so the
 * current cgroup helper describes it. */
static __always_inline void ps_context_fill(struct ps_exec_context *c, struct task_struct *task)
{
	struct task_struct___audit *audited = (void *)task;

	c->cgroup_id = bpf_get_current_cgroup_id();
	c->loginuid = PS_ID_UNSET;
	c->sessionid = PS_ID_UNSET;
	if (bpf_core_field_exists(audited->loginuid)) {
		c->loginuid = BPF_CORE_READ(audited, loginuid.val);
		c->sessionid = BPF_CORE_READ(audited, sessionid);
	}
	/* The active pid namespace is the one at the task's own level of its struct pid. */
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct pid_namespace *ns = 0;
	bpf_core_read(&ns, sizeof(ns), &pid->numbers[level & 31].ns);
	c->pid_ns = BPF_CORE_READ(ns, ns.inum);
	c->reserved0 = 0;
	__builtin_memset(c->tty, 0, sizeof(c->tty));
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (tty)
		bpf_probe_read_kernel_str(c->tty, sizeof(c->tty), &tty->name);
}

#endif
