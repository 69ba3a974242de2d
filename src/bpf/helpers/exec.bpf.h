/* The exec record, sized to its data: every variable part is measured first (paths by the
 * walk's measure pass, the filename in 63-byte steps, argv from mm->arg_end - arg_start),
 * then the record is reserved in the smallest size class that holds it. A reservation needs
 * a size the verifier knows, and bpf_ringbuf_reserve_dynptr is 5.19+, so the classes are a
 * ladder of constants; each class has its own copy of the fill (PS_EXEC_CLASS) because
 * every write is checked against the class's size. Nothing is built anywhere but in the
 * reservation itself, and the measurements live on this program's own stack.
 *
 * Included by two programs: with PS_HAVE_BPF_LOOP (5.17+) and without (bounded loops). */
#ifndef PROCSENTRY_BPF_EXEC_H
#define PROCSENTRY_BPF_EXEC_H

#include "task.bpf.h"
#include "path.bpf.h"
#include "context.bpf.h"
#include "image.bpf.h"

#define PS_STRING_STEP 63
#define PS_FILENAME_CHUNK 64
#define PS_LONG_CHUNK 1023      /* a mask, and below PS_MARGIN_FILENAME */
#define PS_MARGIN_FILENAME 1024 /* margin of a record whose filename is 64 bytes or more */

struct ps_exec_plan {
	struct ps_path_plan image;
	struct ps_path_plan cwd;
	const char *filename;
	unsigned long arg_start;
	/* written together by ps_filename_measure */
	__u32 filename_len;  /* bytes without the NUL, at most PS_PATH_MAX */
	__u32 filename_flags;
	__u32 exec_flags;
	/* written together with exec_flags by ps_exec_measure */
	__u32 margin; /* PS_MARGIN_*: room the verifier needs past the last write */
	__u32 argv_total; /* what the kernel has */
	__u32 argv_len;   /* what the record gets: min(total, --argv-cap) */
	__u32 need;       /* bytes the record needs, margin included */
	__u32 old_pid;    /* the thread that called exec */
};

/* Length of a kernel string (up to PS_PATH_MAX), read in steps onto the stack; `head` keeps
 * its first bytes. */
static __always_inline __u32 ps_kernel_strlen(const char *src, char head[PS_FILENAME_CHUNK], __u32 *flags)
{
	char buf[PS_FILENAME_CHUNK];

	*flags = PS_STR_PRESENT;
	long n = bpf_probe_read_kernel_str(head, PS_FILENAME_CHUNK, src);
	if (n <= 0) {
		*flags = 0;
		return 0;
	}
	if (n < PS_FILENAME_CHUNK)
		return (__u32)n - 1;
	for (int i = 1; i < PS_PATH_MAX / PS_STRING_STEP + 2; i++) {
		n = bpf_probe_read_kernel_str(buf, sizeof(buf), src + i * PS_STRING_STEP);
		if (n <= 0)
			return i * PS_STRING_STEP;
		if (n < PS_FILENAME_CHUNK)
			return i * PS_STRING_STEP + (__u32)n - 1;
	}
	*flags |= PS_STR_TRUNCATED;
	return PS_PATH_MAX;
}

static __always_inline int ps_is_memfd(const struct ps_path_plan *plan)
{
	char name[6] = {};

	if (plan->kind != PS_PATH_PSEUDO)
		return 0;
	struct dentry *dentry = plan->dentry;
	bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name));
	return name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' &&
	       name[5] == ':';
}

/* The filename's length, and whether it names a descriptor; a subprogram handing its result
 * over through ps_launder, like ps_path_measure. */
static __noinline int ps_filename_measure(struct ps_exec_plan *plan, struct linux_binprm *bprm)
{
	char head[PS_FILENAME_CHUNK];
	__u32 out[3]; /* length, flags, exec flags */

	const char *filename = BPF_CORE_READ(bprm, filename);
	plan->filename = filename;
	out[0] = ps_kernel_strlen(filename, head, &out[1]);
	out[2] = out[1] && ps_exec_named_fd(bprm, head) ? PS_EXEC_FD : 0;
	ps_launder(&plan->filename_len, out, sizeof(out));
	return ps_read_back(plan->filename_len);
}

/* Measures every variable part; returns the bytes the record needs, margin included. A
 * subprogram: its locals leave the stack before the fill's chain of calls needs it (5.10
 * counts 512 bytes for a whole chain). */
static __noinline int ps_exec_measure(struct ps_exec_plan *plan, struct task_struct *task,
				      struct linux_binprm *bprm)
{
	struct path root = BPF_CORE_READ(task, fs, root);
	struct path image = BPF_CORE_READ(bprm, file, f_path);
	struct path cwd = BPF_CORE_READ(task, fs, pwd);

	__u32 image_len = ps_path_measure(&plan->image, &image, &root, 1) & 0x3fff;
	__u32 cwd_len = ps_path_measure(&plan->cwd, &cwd, &root, 0) & 0x3fff;
	__u32 filename_len = ps_filename_measure(plan, bprm) & 0x1fff;

	__u32 flags[2];
	flags[0] = plan->exec_flags & PS_EXEC_FD;
	if (ps_is_memfd(&plan->image))
		flags[0] |= PS_EXEC_IMAGE_MEMFD;
	else if (plan->image.suffix)
		flags[0] |= PS_EXEC_IMAGE_DELETED;
#ifdef PS_HAVE_BPF_LOOP
	flags[1] = plan->image.r.long_name || plan->cwd.r.long_name ? PS_MARGIN_LONG : PS_MARGIN_SHORT;
#else
	flags[1] = PS_MARGIN_LONG; /* ps_copy_step writes every name the long way */
#endif
	if (filename_len >= PS_MARGIN_SHORT)
		flags[1] = PS_MARGIN_FILENAME;
	ps_launder(&plan->exec_flags, flags, sizeof(flags));

	plan->arg_start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(task, mm, arg_end);
	unsigned long total = arg_end > plan->arg_start ? arg_end - plan->arg_start : 0;
	if (total > 0xffffffffu)
		total = 0xffffffffu;
	plan->argv_total = total;
	plan->argv_len = total < cfg_argv_cap ? total : cfg_argv_cap;

	/* Each part re-bounded: the laundered values are unknown to the verifier. */
	__u32 margin = plan->margin & 0x7ff;
	plan->need = sizeof(struct ps_exec) + plan->argv_len + image_len + filename_len + cwd_len + margin;
	return ps_read_back(plan->need);
}

static __always_inline void ps_filename_copy(__u8 *rec, __u32 start, const struct ps_exec_plan *plan,
					     struct ps_str *desc, const __u32 cap)
{
	__u32 len = plan->filename_len;

	if (!plan->filename_flags || len > PS_PATH_MAX) {
		ps_str_absent(desc);
		return;
	}
	/* One read for a short name, 1 KiB chunks for a long one (its record has the margin
	 * for them): few steps for the verifier, which checks each size class. The masks bound
	 * each read where the verifier of 5.x kernels cannot follow a min(). */
	if (len < PS_MARGIN_SHORT) {
		if (start > cap - PS_MARGIN_SHORT)
			return;
		__u64 i = ps_bound(start, cap - PS_MARGIN_SHORT);
		ps_barrier_var(len);
		bpf_probe_read_kernel(&rec[i], len & (PS_MARGIN_SHORT - 1), plan->filename);
	} else if (cap > PS_MARGIN_FILENAME) { /* smaller classes never get a long name */
		for (int i = 0; i < PS_PATH_MAX / PS_LONG_CHUNK + 1; i++) {
			__u32 done = i * PS_LONG_CHUNK;
			if (done >= len)
				break;
			__u32 n = len - done;
			if (n > PS_LONG_CHUNK)
				n = PS_LONG_CHUNK;
			ps_barrier_var(n); /* or the compiler drops the mask it knows is redundant */
			n &= PS_LONG_CHUNK;
			__u32 at = start + done;
			if (at > cap - PS_MARGIN_FILENAME)
				break;
			bpf_probe_read_kernel(&rec[ps_bound(at, cap - PS_MARGIN_FILENAME)], n, plan->filename + done);
		}
	}
	__u32 flags = plan->filename_flags & (PS_STR_PRESENT | PS_STR_TRUNCATED);
	__u32 original = flags & PS_STR_TRUNCATED ? 0 : len;
	ps_str_set(desc, start, len, original, flags);
}

/* The fixed part and argv (at a fixed offset: no margin needed). Returns where the variable
 * part continues. */
static __noinline int ps_exec_fill_fixed(struct ps_exec *rec, struct ps_exec_plan *plan, struct task_struct *task,
					 struct linux_binprm *bprm, const __u32 cap)
{
	__u8 *bytes = (__u8 *)rec;
	const __u32 pos = sizeof(*rec);

	ps_header_init(&rec->hdr, PS_REC_EXEC, 0);
	ps_task_fill(&rec->task, task);
	ps_context_fill(&rec->context, task);
	rec->task.tid = plan->old_pid; /* the thread that called exec; it is the leader now */
	rec->argc = BPF_CORE_READ(bprm, argc);
	rec->exec_flags = plan->exec_flags & PS_EXEC_FLAGS_KNOWN;
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		rec->exec_flags |= PS_EXEC_SCRIPT;
	rec->image_uid = 0;
	rec->image_mode = 0;
	ps_image_fill(rec, bprm);

	/* argv: the new image's argument strings, just copied to its stack by the kernel. A
	 * failed read is said, with the length the kernel had: never silent. */
	__u32 len = plan->argv_len;
	if (len > cap - sizeof(*rec))
		len = cap - sizeof(*rec);
	len = ps_bound(len, cap - sizeof(*rec));
	__u16 list = PS_STR_PRESENT | PS_STR_NUL_LIST;
	if (len == 0)
		ps_str_set(&rec->argv, pos, 0, 0, list);
	else if (bpf_probe_read_user(&bytes[pos], len, (const void *)plan->arg_start) == 0)
		ps_str_set(&rec->argv, pos, len, plan->argv_total,
			   list | (len < plan->argv_total ? PS_STR_TRUNCATED : 0));
	else
		ps_str_set(&rec->argv, pos, 0, plan->argv_total, list | PS_STR_TRUNCATED | PS_STR_UNREADABLE);
	return ps_read_back(rec->argv.length);
}

/* Moves past a field just written, by the length read back from the record (so the verifier
 * continues from one state, whatever the writer did), bounded by the reservation. */
static __always_inline __u32 ps_after(__u32 pos, __u32 len, const __u32 cap)
{
	if (len > cap)
		len = cap;
	pos += len;
	return pos > cap ? cap : pos;
}

/* Size classes: small steps where most execs are (a few hundred bytes), then doubling. Each
 * class is verified on its own, and the older verifier walks bounded loops step by step, so
 * the bounded-loop variant has fewer classes (a typical exec still gets 512 bytes). */
#ifdef PS_HAVE_BPF_LOOP
#define PS_EXEC_CLASSES(X)                                                                 \
	X(384) X(448) X(512) X(576) X(640) X(768) X(1024) X(1536) X(2048) X(3072) X(4096) \
		X(6144) X(8192) X(12288) X(16384)
#else
#define PS_EXEC_CLASSES(X) X(640) X(2048)
#endif
/* The largest: argv at its cap, three paths at PS_PATH_MAX with suffixes, the margin. */
#define PS_EXEC_CLASS_MAX                                                                  \
	(sizeof(struct ps_exec) + cfg_argv_cap + 3 * PS_PATH_MAX + 2 * PS_DELETED_SUFFIX_LEN + \
	 PS_MARGIN_FILENAME)

/* Per class: the fill, and each variable part's writer as a subprogram of its own, so the
 * verifier checks what follows each once (see ps_path_measure). Layout: the fixed record,
 * argv, image, filename, cwd. */
#define PS_EXEC_FILL_DEFINE(name, cap)                                                     \
	PS_COPY_CALLBACK(name, cap)                                                        \
	static __noinline int ps_path_copy_##name(__u8 *rec, __u32 start,                 \
						  const struct ps_path_plan *plan,         \
						  struct ps_str *desc)                     \
	{                                                                                  \
		ps_path_copy(rec, start, plan, desc, cap, PS_COPY_CB(name));               \
		return ps_read_back(desc->length);                                         \
	}                                                                                  \
	static __noinline int ps_filename_copy_##name(__u8 *rec, __u32 start,             \
						      const struct ps_exec_plan *plan,     \
						      struct ps_str *desc)                 \
	{                                                                                  \
		ps_filename_copy(rec, start, plan, desc, cap);                             \
		return ps_read_back(desc->length);                                         \
	}                                                                                  \
	static __noinline int ps_exec_fill_##name(struct ps_exec *rec, struct ps_exec_plan *plan, \
						  struct task_struct *task, pid_t old_pid,     \
						  struct linux_binprm *bprm)                   \
	{                                                                                  \
		__u8 *bytes = (__u8 *)rec;                                                 \
		__u32 pos = ps_after(sizeof(*rec), ps_exec_fill_fixed(rec, plan, task, bprm, cap), cap); \
		pos = ps_after(pos, ps_path_copy_##name(bytes, pos, &plan->image, &rec->image), cap); \
		pos = ps_after(pos, ps_filename_copy_##name(bytes, pos, plan, &rec->filename), cap); \
		pos = ps_after(pos, ps_path_copy_##name(bytes, pos, &plan->cwd, &rec->cwd), cap); \
		rec->hdr.size = pos;                                                       \
		return pos;                                                                \
	}
#define PS_EXEC_FILL_CLASS(cap) PS_EXEC_FILL_DEFINE(cap, cap)
PS_EXEC_CLASSES(PS_EXEC_FILL_CLASS)
PS_EXEC_FILL_DEFINE(max, PS_EXEC_CLASS_MAX)

#define PS_EXEC_TRY_CLASS(cap)                                                             \
	if (need <= cap) {                                                                 \
		rec = ps_reserve(cap);                                                     \
		if (!rec)                                                                  \
			return 0;                                                          \
		size = ps_exec_fill_##cap(rec, &plan, task, old_pid, bprm);                \
		goto submit;                                                               \
	}

static __always_inline int ps_exec_emit(struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ps_exec_plan plan = {};
	struct ps_exec *rec;
	int size;

	/* The opening of ps_record_begin, split: the record's size is known only after measuring,
	 * and the exec program fills its own header. */
	ps_report_lost();
	plan.old_pid = old_pid;
	__u32 need = ps_exec_measure(&plan, task, bprm);
	if (need > PS_EXEC_CLASS_MAX)
		need = PS_EXEC_CLASS_MAX;
	PS_EXEC_CLASSES(PS_EXEC_TRY_CLASS)
	rec = ps_reserve(PS_EXEC_CLASS_MAX);
	if (!rec)
		return 0;
	size = ps_exec_fill_max(rec, &plan, task, old_pid, bprm);
submit:
	/* The result is used so that the compiler keeps the subprograms' return value: the
	 * verifier insists on one. A record always holds at least its fixed part. */
	if (size < (int)sizeof(*rec)) {
		bpf_ringbuf_discard(rec, 0);
		return 0;
	}
	ps_submit(rec);
	return 0;
}

#endif
