// SPDX-License-Identifier: GPL-2.0
/* exec_failed: execve/execveat returned an error. No tracepoint marks a failed exec, so this
 * rides the raw syscall-exit tracepoint and returns at once for anything else. x86_64. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../helpers/task.bpf.h"

#define PS_NR_EXECVE 59
#define PS_NR_EXECVEAT 322
#define PS_TS_COMPAT 0x2 /* thread_info.status: a 32-bit syscall, other numbering */

SEC("tp_btf/sys_exit")
int BPF_PROG(ps_sys_exit_execve, struct pt_regs *regs, long ret)
{
	if (ret >= 0)
		return 0;
	long nr = BPF_CORE_READ(regs, orig_ax);
	if (nr != PS_NR_EXECVE && nr != PS_NR_EXECVEAT)
		return 0;
	/* bpf_get_current_task_btf() is 5.11+: the untyped helper and CO-RE reads work from 5.8. */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, thread_info.status) & PS_TS_COMPAT)
		return 0;

	struct ps_exec_failed *rec = ps_record_begin(sizeof(*rec) + PS_PATH_MAX, PS_REC_EXEC_FAILED, 0);
	if (!rec)
		return 0;
	ps_task_fill(&rec->task, task);
	rec->error = (__s32)-ret;
	rec->reserved0 = 0;

	/* The arguments are still in the saved registers; the old image is still mapped. */
	const char *filename = (const char *)(nr == PS_NR_EXECVE ? BPF_CORE_READ(regs, di)
								  : BPF_CORE_READ(regs, si));
	char *area = (char *)(rec + 1);
	long n = bpf_probe_read_user_str(area, PS_PATH_MAX, filename);
	if (n > 0)
		ps_str_set(&rec->filename, sizeof(*rec), (__u32)n - 1, (__u32)n - 1, PS_STR_PRESENT);
	else
		ps_str_absent(&rec->filename);
	rec->hdr.size = sizeof(*rec) + (n > 0 ? (__u32)n - 1 : 0);
	ps_submit(rec);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
