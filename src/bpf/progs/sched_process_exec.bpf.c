// SPDX-License-Identifier: GPL-2.0
/* exec: the process image was replaced (execve and execveat alike). Kernels with bpf_loop
 * (5.17+); sched_process_exec_bounded.bpf.c is the same program for older kernels, and user
 * space loads the one the kernel supports (libbpf's helper probe). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#define PS_HAVE_BPF_LOOP 1
#include "../helpers/exec.bpf.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ps_sched_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return ps_exec_emit(task, old_pid, bprm);
}

char LICENSE[] SEC("license") = "GPL";
