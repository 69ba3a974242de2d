/* Absolute paths without bpf_d_path (it needs fentry/lsm, refused here): a walk up the
 * dentry tree, hopping to the parent mount at each mount root, as the kernel's
 * prepend_path() does, and stopping at the task's own root (fs->root) as d_path() does: a
 * process in a container or a chroot gets the path it sees itself.
 *
 * Two passes over the same chain, both before and after the record is reserved:
 * - measure (before): sums the "/name" lengths, so the record is reserved at its size;
 * - copy (after): writes each name at its final place. When the path is longer than
 *   PS_PATH_MAX, the copy skips the leaf-most names until the rest fits, so the path keeps
 *   its ROOT-most part (a glob on the prefix such as "/tmp/" + "*" still matches) and is flagged.
 * Neither pass needs scratch memory: the names go straight into the record's reservation.
 *
 * Walk bound: with bpf_loop (5.17+) PS_PATH_STEPS_LOOP steps, enough for any path of
 * PS_PATH_MAX bytes; without it a bounded loop of PS_PATH_STEPS_BOUNDED steps, which the
 * older verifier walks through iteration by iteration. A path deeper than the bound cannot
 * be followed to its root: it is flagged truncated with original length 0 (unknown).
 *
 * Pseudo files (memfd, anonymous shmem) have no parent: the kernel names them with
 * d_op->d_dname (simple_dname: "/" + name + " (deleted)"); so do we. A file unlinked before
 * its exec gets the kernel's " (deleted)" suffix too.
 */
#ifndef PROCSENTRY_BPF_PATH_H
#define PROCSENTRY_BPF_PATH_H

#include "record.bpf.h"

#define PS_NAME_MAX 255
#define PS_DELETED_SUFFIX_LEN 10 /* " (deleted)" */

/* How a path is named, found by the measure pass. */
#define PS_PATH_NORMAL 0
#define PS_PATH_PSEUDO 1 /* d_dname: "/" + name + " (deleted)" */

struct ps_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry; /* the task's root: the walk ends there */
	struct vfsmount *root_mnt;
};

/* Everything the measure pass learnt, kept on this program's own stack. */
/* What a walk found: one unit, copied out of the loop state with ps_launder. */
struct ps_walk_result {
	__u32 total;  /* measure: sum of the "/name" lengths (partial when the walk bound was hit) */
	int done;     /* measure: 1 reached the root, -1 detached, 0 walk bound hit */
	__u32 long_name; /* measure: a name of 63 bytes or more: the copy needs the larger margin */
	__u32 written;   /* copy: the names' length once the first fitting one is placed */
	__u32 remaining; /* copy: bytes of names not walked (0 when complete) */
	__u32 flags;     /* copy: PS_STR_* */
};

/* Plain pointers, not struct path: CO-RE would relocate a kernel type's member access
 * inside our own struct, which the kernel's BTF does not know. */
struct ps_path_plan {
	struct dentry *dentry;
	struct vfsmount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	struct ps_walk_result r;
	__u32 length; /* bytes the record gets for it: names within PS_PATH_MAX, + suffix */
	__u32 suffix; /* bytes of " (deleted)" after the names */
	__u16 flags;  /* PS_STR_* */
	__u8 kind;    /* PS_PATH_* */
	__u8 reserved0;
};

static __always_inline struct mount *ps_real_mount(struct vfsmount *vfsmnt)
{
	/* container_of with a CO-RE offset: struct mount is private to fs/ and may move. */
	return (struct mount *)((char *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

static __always_inline void ps_walk_start(struct ps_walk *w, const struct ps_path_plan *plan)
{
	w->dentry = plan->dentry;
	w->vfsmnt = plan->mnt;
	w->mnt = ps_real_mount(w->vfsmnt);
	w->root_dentry = plan->root_dentry;
	w->root_mnt = plan->root_mnt;
}

/* Moves to the next component up. Returns its name length via *len and the dentry whose
 * name it is via *named (0 for a mount hop), 0 on success, 1 at the root, -1 detached. */
static __always_inline int ps_walk_step(struct ps_walk *w, struct dentry **named, __u32 *len)
{
	/* Locals, not w->field, inside BPF_CORE_READ: the walk state is not a kernel type. */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt)
		return 1;
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);

		if (parent == mnt)
			return 1; /* the global root (or a detached mount's root) */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent;
		w->vfsmnt = &parent->mnt;
		*named = 0;
		*len = 0;
		return 0;
	}
	struct dentry *up = BPF_CORE_READ(dentry, d_parent);
	if (up == dentry)
		return -1;
	*named = dentry;
	*len = BPF_CORE_READ(dentry, d_name.len) & 0x1ff;
	w->dentry = up;
	return 0;
}

/* At the end of each step of a walk: without it, the verifier carries every combination
 * of facts the steps so far established (a flag set or not, a range here or there) as states
 * of their own, and a bounded loop of N steps costs far more than N times one step. */
#define ps_launder_walk(s) ps_launder(&(s)->w, &(s)->w, sizeof((s)->w) + sizeof((s)->r))

/* ---- measure pass ---- */

struct ps_measure_state {
	struct ps_walk w;
	struct ps_walk_result r;
};

static __always_inline long ps_measure_step(struct ps_measure_state *m)
{
	struct dentry *named;
	__u32 len;
	int r = ps_walk_step(&m->w, &named, &len);

	if (r) {
		m->r.done = r;
		return 1;
	}
	if (named) {
		m->r.total += len + 1;
		if (len >= 63)
			m->r.long_name = 1;
	}
	return 0;
}

#ifdef PS_HAVE_BPF_LOOP
static long ps_measure_cb(__u32 index, void *data)
{
	struct ps_measure_state *m = data;
	long r = ps_measure_step(m);

	if (!r)
		ps_launder_walk(m);
	return r;
}
#endif

/* Fills the plan for `path` as seen from `root`. */
static __always_inline void ps_path_measure_into(struct ps_path_plan *plan, const struct path *path,
						 const struct path *root, int check_deleted)
{
	struct dentry *dentry = path->dentry;
	struct vfsmount *vfsmnt = path->mnt;

	plan->dentry = dentry;
	plan->mnt = vfsmnt;
	plan->root_dentry = root->dentry;
	plan->root_mnt = root->mnt;
	plan->flags = PS_STR_PRESENT;
	plan->kind = PS_PATH_NORMAL;
	plan->suffix = 0;
	plan->reserved0 = 0;

	/* d_path(): a dentry with d_dname that is not a mount root is a pseudo file. */
	const struct dentry_operations *ops = BPF_CORE_READ(dentry, d_op);
	if (ops && BPF_CORE_READ(ops, d_dname) &&
	    (BPF_CORE_READ(dentry, d_parent) != dentry || dentry != BPF_CORE_READ(vfsmnt, mnt_root))) {
		__u32 len = BPF_CORE_READ(dentry, d_name.len) & 0x1ff;
		plan->kind = PS_PATH_PSEUDO;
		plan->r.total = len + 1;
		plan->suffix = PS_DELETED_SUFFIX_LEN;
		plan->r.long_name = len >= 63;
		plan->r.done = 1;
		plan->length = plan->r.total + plan->suffix;
		return;
	}

	struct ps_measure_state m = {};
	ps_walk_start(&m.w, plan);
#ifdef PS_HAVE_BPF_LOOP
	bpf_loop(PS_PATH_STEPS_LOOP, ps_measure_cb, &m, 0);
#else
	for (int i = 0; i < PS_PATH_STEPS_BOUNDED; i++) {
		if (ps_measure_step(&m))
			break;
		ps_launder_walk(&m);
	}
#endif
	ps_launder(&plan->r, &m.r, sizeof(plan->r));
	if (!plan->r.done)
		plan->flags |= PS_STR_TRUNCATED; /* deeper than the walk bound: length unknown */
	/* d_unlinked(): unhashed and not a root. */
	if (check_deleted && !BPF_CORE_READ(dentry, d_hash.pprev) &&
	    BPF_CORE_READ(dentry, d_parent) != dentry)
		plan->suffix = PS_DELETED_SUFFIX_LEN;
	__u32 names = plan->r.total < PS_PATH_MAX ? plan->r.total : PS_PATH_MAX;
	if (names == 0)
		names = 1; /* the root itself: "/" */
	plan->length = names + plan->suffix;
}

/* A subprogram of its own, handing its result over through ps_launder: however many ways
 * the walk ends, the caller continues from one state (the verifier checks the rest once). */
static __noinline int ps_path_measure(struct ps_path_plan *out, const struct path *path, const struct path *root,
				      int check_deleted)
{
	/* Built in place and laundered in place: 5.10 counts every byte of stack in a chain. */
	ps_path_measure_into(out, path, root, check_deleted);
	ps_launder(out, out, sizeof(*out));
	return ps_read_back(out->length);
}

/* ---- copy pass ----
 * The verifier must see every write inside the reservation, whose size is a constant per
 * size class (CAP). Each write is checked against CAP minus the most it can write, so a
 * record needs PS_MARGIN_SHORT (or PS_MARGIN_LONG with a long name) bytes of margin. */
#define PS_MARGIN_SHORT 64
#define PS_MARGIN_LONG 256

struct ps_copy_state {
	struct ps_walk w;
	struct ps_walk_result r; /* right after w: both are laundered at each step */
	__u8 *rec;
	__u32 start; /* where the path starts in the record */
	__u32 room;  /* names longer than this are cut from the leaf end */
};


static __always_inline long ps_copy_step(struct ps_copy_state *c, const __u32 cap)
{
	struct dentry *named;
	__u32 len;

	if (c->r.remaining == 0 || ps_walk_step(&c->w, &named, &len))
		return 1;
	if (!named)
		return 0;
	__u32 step = len + 1;
	if (step > c->r.remaining) {
		c->r.flags |= PS_STR_TRUNCATED; /* renamed since the measure: keep the bounds */
		return 1;
	}
	if (c->r.remaining > c->room) {
		c->r.remaining -= step; /* a leaf-most name beyond PS_PATH_MAX: skipped */
		c->r.flags |= PS_STR_TRUNCATED;
		return 0;
	}
	if (!c->r.written)
		c->r.written = c->r.remaining;
	c->r.remaining -= step;
	__u32 at = c->start + c->r.remaining;
	const unsigned char *name = BPF_CORE_READ(named, d_name.name);
#ifdef PS_HAVE_BPF_LOOP
	if (len < PS_MARGIN_SHORT) {
#else
	/* One way to write a name: each branch of a step is verified at every step. */
	if (0) {
#endif
		if (at > cap - PS_MARGIN_SHORT)
			return 1;
		__u64 i = ps_bound(at, cap - PS_MARGIN_SHORT);
		ps_barrier_var(len); /* keeps the mask the compiler knows is redundant */
		c->rec[i] = '/';
		bpf_probe_read_kernel(&c->rec[i + 1], len & (PS_MARGIN_SHORT - 1), name);
	} else {
		if (at > cap - PS_MARGIN_LONG)
			return 1;
		__u64 i = ps_bound(at, cap - PS_MARGIN_LONG);
		c->rec[i] = '/';
		bpf_probe_read_kernel(&c->rec[i + 1], len & PS_NAME_MAX, name);
	}
	return 0;
}

static __always_inline void ps_put_deleted(__u8 *rec, __u32 at, const __u32 cap)
{
	if (at > cap - PS_MARGIN_SHORT)
		return;
	__u64 i = ps_bound(at, cap - PS_MARGIN_SHORT);
	rec[i + 0] = ' ';
	rec[i + 1] = '(';
	rec[i + 2] = 'd';
	rec[i + 3] = 'e';
	rec[i + 4] = 'l';
	rec[i + 5] = 'e';
	rec[i + 6] = 't';
	rec[i + 7] = 'e';
	rec[i + 8] = 'd';
	rec[i + 9] = ')';
}

/* Writes the pseudo name "/name (deleted)" at rec[start..]. */
static __always_inline __u32 ps_copy_pseudo(__u8 *rec, __u32 start, const struct ps_path_plan *plan,
					    const __u32 cap)
{
	struct dentry *dentry = plan->dentry;
	__u32 len = BPF_CORE_READ(dentry, d_name.len) & 0x1ff;
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);

	if (len + 1 != plan->r.total)
		return 0;
	if (len < PS_MARGIN_SHORT) {
		if (start > cap - PS_MARGIN_SHORT)
			return 0;
		__u64 i = ps_bound(start, cap - PS_MARGIN_SHORT);
		ps_barrier_var(len); /* keeps the mask the compiler knows is redundant */
		rec[i] = '/';
		bpf_probe_read_kernel(&rec[i + 1], len & (PS_MARGIN_SHORT - 1), name);
	} else {
		if (start > cap - PS_MARGIN_LONG)
			return 0;
		__u64 i = ps_bound(start, cap - PS_MARGIN_LONG);
		rec[i] = '/';
		bpf_probe_read_kernel(&rec[i + 1], len & PS_NAME_MAX, name);
	}
	ps_put_deleted(rec, start + plan->r.total, cap);
	return plan->r.total + PS_DELETED_SUFFIX_LEN;
}

/* bpf_loop needs a callback of its own per size class, because the bound each write is
 * checked against is a constant: PS_COPY_CALLBACK(name, cap) defines ps_copy_cb_<name>. */
#ifdef PS_HAVE_BPF_LOOP
#define PS_COPY_CALLBACK(name, cap)                                                        \
	static long ps_copy_cb_##name(__u32 index, void *data)                             \
	{                                                                                  \
		struct ps_copy_state *c = data;                                            \
		long r = ps_copy_step(c, cap);                                             \
		if (!r)                                                                    \
			ps_launder_walk(c);                                                \
		return r;                                                                  \
	}
#define PS_COPY_CB(name) ps_copy_cb_##name
typedef long (*ps_copy_cb_t)(__u32 index, void *data);
#else
#define PS_COPY_CALLBACK(name, cap)
#define PS_COPY_CB(name) 0
typedef void *ps_copy_cb_t;
#endif

/* Writes the path planned in `plan` at rec[start..] and describes it in *desc (which the
 * caller reads back: the bytes used, at most plan->length). */
static __always_inline __u32 ps_path_copy(__u8 *rec, __u32 start, const struct ps_path_plan *plan,
					  struct ps_str *desc, const __u32 cap, ps_copy_cb_t cb)
{
	if (plan->kind == PS_PATH_PSEUDO) {
		__u32 n = ps_copy_pseudo(rec, start, plan, cap);
		if (!n) {
			ps_str_set(desc, 0, 0, 0, 0);
			return 0;
		}
		ps_str_set(desc, start, n, n, PS_STR_PRESENT);
		return n;
	}
	if (plan->r.total == 0) {
		if (start > cap - PS_MARGIN_SHORT)
			return 0;
		rec[ps_bound(start, cap - PS_MARGIN_SHORT)] = '/';
		if (plan->suffix)
			ps_put_deleted(rec, start + 1, cap);
		__u32 n = 1 + plan->suffix;
		ps_str_set(desc, start, n, plan->flags & PS_STR_TRUNCATED ? 0 : n, plan->flags);
		return n;
	}
	struct ps_copy_state c = {};
	ps_walk_start(&c.w, plan);
	c.rec = rec;
	c.start = start;
	c.r.remaining = plan->r.total;
	c.room = PS_PATH_MAX;
	c.r.flags = plan->flags;
#ifdef PS_HAVE_BPF_LOOP
	bpf_loop(PS_PATH_STEPS_LOOP, cb, &c, 0);
#else
	for (int i = 0; i < PS_PATH_STEPS_BOUNDED; i++) {
		if (ps_copy_step(&c, cap))
			break;
		ps_launder_walk(&c);
	}
#endif
	/* Read back from the loop state: re-bound for the verifier. */
	ps_launder(&c.r, &c.r, sizeof(c.r)); /* in place: 5.10 counts every byte of stack */
	struct ps_walk_result *r = &c.r;
	__u32 names = r->written > PS_PATH_MAX ? PS_PATH_MAX : r->written;
	if (r->remaining != 0) {
		/* The walk stopped early: the chain changed under us, or a bound. */
		r->flags |= PS_STR_TRUNCATED;
		names = 0;
	}
	__u32 n = names;
	if (plan->suffix && names) {
		ps_put_deleted(rec, start + names, cap);
		n += PS_DELETED_SUFFIX_LEN;
	}
	__u32 original = n;
	if (r->flags & PS_STR_TRUNCATED)
		original = plan->r.done > 0 ? plan->r.total + plan->suffix : 0;
	if (original == n && n != 0)
		r->flags &= ~PS_STR_TRUNCATED;
	ps_str_set(desc, start, n, original, r->flags);
	return n;
}

#endif
