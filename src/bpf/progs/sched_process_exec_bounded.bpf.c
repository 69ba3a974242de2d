// SPDX-License-Identifier: GPL-2.0
/* exec for kernels without bpf_loop (5.8 to 5.16): the path walks are bounded loops the
 * verifier follows step by step, PS_PATH_STEPS_BOUNDED components deep (path.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../helpers/exec.bpf.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ps_sched_process_exec_bounded, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return ps_exec_emit(task, old_pid, bprm);
}

char LICENSE[] SEC("license") = "GPL";
