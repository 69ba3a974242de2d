// SPDX-License-Identifier: GPL-2.0
/* exec: the process image was replaced (execve and execveat alike). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../helpers/task.bpf.h"
#include "../helpers/path.bpf.h"
#include "../helpers/context.bpf.h"

/* Most command lines are short: those get a small reservation so the ring buffer holds
 * many more of them; the rest get room for the configured argv cap. */
#define PS_ARGV_SMALL 4096u

static __noinline int ps_exec_fill(struct ps_exec *rec, __u32 argv_room, struct task_struct *task,
				   pid_t old_pid, struct linux_binprm *bprm)
{
	__u8 *area = (__u8 *)(rec + 1);
	const __u32 area_offset = sizeof(*rec);
	__u32 pos = 0;

	ps_task_fill(&rec->task, task);
	ps_context_fill(&rec->context, task);
	rec->task.tid = old_pid; /* the thread that called exec; it is the leader now */
	rec->argc = BPF_CORE_READ(bprm, argc);
	rec->exec_flags = 0;
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		rec->exec_flags |= PS_EXEC_SCRIPT;

	struct path image = BPF_CORE_READ(bprm, file, f_path);
	pos += ps_path_write(area, area_offset, pos, &image, &rec->image);

	const char *filename = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(&area[pos & PS_PATHS_MASK], PS_PATH_MAX, filename);
	if (n > 0) {
		ps_str_set(&rec->filename, area_offset + pos, (__u32)n - 1, (__u32)n - 1, PS_STR_PRESENT);
		pos += (__u32)n - 1;
	} else {
		ps_str_absent(&rec->filename);
	}

	struct path cwd = BPF_CORE_READ(task, fs, pwd);
	pos += ps_path_write(area, area_offset, pos & PS_PATHS_MASK, &cwd, &rec->cwd);
	pos &= PS_PATHS_MASK;

	/* argv: the new image's argument strings, just copied to its stack by the kernel, so
	 * the pages are present and the read cannot fault. */
	unsigned long arg_start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(task, mm, arg_end);
	__u32 total = arg_end > arg_start ? (__u32)(arg_end - arg_start) : 0;
	__u32 len = total;
	if (len > argv_room)
		len = argv_room;
	if (len > 0 && bpf_probe_read_user(&area[pos], len, (const void *)arg_start) == 0) {
		ps_str_set(&rec->argv, area_offset + pos, len, total,
			   PS_STR_PRESENT | PS_STR_NUL_LIST | (len < total ? PS_STR_TRUNCATED : 0));
		pos += len;
	} else {
		ps_str_set(&rec->argv, 0, 0, 0, PS_STR_NUL_LIST);
	}
	rec->hdr.size = area_offset + pos;
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ps_sched_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ps_exec *rec;

	ps_report_lost();
	unsigned long arg_start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(task, mm, arg_end);
	if (arg_end - arg_start <= PS_ARGV_SMALL) {
		rec = bpf_ringbuf_reserve(&events, sizeof(*rec) + PS_PATHS_AREA + PS_ARGV_SMALL, 0);
		if (!rec)
			goto drop;
		ps_header_init(&rec->hdr, PS_REC_EXEC, 0);
		ps_exec_fill(rec, PS_ARGV_SMALL, task, old_pid, bprm);
	} else {
		rec = bpf_ringbuf_reserve(&events, sizeof(*rec) + PS_PATHS_AREA + cfg_argv_cap, 0);
		if (!rec)
			goto drop;
		ps_header_init(&rec->hdr, PS_REC_EXEC, 0);
		ps_exec_fill(rec, cfg_argv_cap, task, old_pid, bprm);
	}
	ps_submit(rec);
	return 0;
drop:
	ps_count_drop(PS_LOST_RINGBUF_FULL);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
