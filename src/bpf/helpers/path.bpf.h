/* Absolute path of a struct path without bpf_d_path (it needs fentry/lsm, refused here):
 * a bounded walk up the dentry tree, hopping to the parent mount at each mount root, as the
 * kernel's prepend_path() does. The path is relative to the global root (host view), not to
 * the process's chroot.
 *
 * Two passes over the same chain: the first sums the component lengths, the second writes
 * each name at its final place, leaf first, so the result is compact and needs no scratch
 * buffer. Each walk is bounded by PS_PATH_DEPTH steps (components plus mount hops); deeper
 * paths keep their leaf-most part and are flagged truncated.
 */
#ifndef PROCSENTRY_BPF_PATH_H
#define PROCSENTRY_BPF_PATH_H

#include "record.bpf.h"

#define PS_PATH_DEPTH 48
#define PS_NAME_MASK 0x1ff /* names are at most NAME_MAX (255) bytes */

/* The area every path is written into: positions are masked to it for the verifier. */
#define PS_PATHS_AREA 16384
#define PS_PATHS_MASK (PS_PATHS_AREA - 1)

struct ps_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
};

static __always_inline void ps_walk_start(struct ps_walk *w, const struct path *path)
{
	w->dentry = BPF_CORE_READ(path, dentry);
	w->vfsmnt = BPF_CORE_READ(path, mnt);
	w->mnt = container_of(w->vfsmnt, struct mount, mnt);
}

/* Moves to the next component up. Returns its name length via *len and the dentry whose
 * name it is via *named, 0 on success, 1 at the global root, -1 when detached. */
static __always_inline int ps_walk_step(struct ps_walk *w, struct dentry **named, __u32 *len)
{
	/* Locals, not w->field, inside BPF_CORE_READ: the walk state is not a kernel type. */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);

	if (dentry == mnt_root) {
		struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);

		if (parent == mnt)
			return 1;
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
	*len = BPF_CORE_READ(dentry, d_name.len) & PS_NAME_MASK;
	w->dentry = up;
	return 0;
}

/* State shared by the two bpf_loop passes: bpf_loop verifies the step once instead of
 * unrolling PS_PATH_DEPTH copies of it (which exceeds the verifier's budget). */
struct ps_path_walk {
	struct ps_walk w;
	__u8 *area;
	__u32 pos;   /* where this path starts in area */
	__u32 total; /* pass 1: sum of "/name" lengths */
	__u32 end;   /* pass 2: where the next component ends */
	int done;    /* pass 1: 1 = reached the root, -1 = detached, 0 = walk bound hit */
	__u16 flags;
};

static long ps_path_measure_step(__u32 index, void *data)
{
	struct ps_path_walk *pw = data;
	struct dentry *named;
	__u32 len;
	int r = ps_walk_step(&pw->w, &named, &len);

	if (r) {
		pw->done = r;
		return 1;
	}
	if (named)
		pw->total += len + 1;
	return 0;
}

static long ps_path_copy_step(__u32 index, void *data)
{
	struct ps_path_walk *pw = data;
	struct dentry *named;
	__u32 len;

	if (ps_walk_step(&pw->w, &named, &len))
		return 1;
	if (!named)
		return 0;
	if (len + 1 > pw->end) {
		pw->flags |= PS_STR_TRUNCATED; /* longer than PS_PATH_MAX: keep the leaf end */
		return 1;
	}
	pw->end -= len + 1;
	__u8 *area = pw->area;
	__u32 at = pw->pos + pw->end;
	area[at & PS_PATHS_MASK] = '/';
	const unsigned char *name = BPF_CORE_READ(named, d_name.name);
	bpf_probe_read_kernel(&area[(at + 1) & PS_PATHS_MASK], len & PS_NAME_MASK, name);
	return 0;
}

/* Writes the absolute path of `path` at area[pos..] (area is the record's variable data,
 * `area_offset` its offset in the record) and describes it in *desc. Returns bytes used.
 * A concurrent rename between the two passes can garble the name but never the bounds. */
static __always_inline __u32 ps_path_write(__u8 *area, __u32 area_offset, __u32 pos,
					   const struct path *path, struct ps_str *desc)
{
	struct ps_path_walk pw = {};
	__u32 start = pos & PS_PATHS_MASK;

	pw.area = area;
	pw.pos = start;
	ps_walk_start(&pw.w, path);
	bpf_loop(PS_PATH_DEPTH, ps_path_measure_step, &pw, 0);
	pw.flags = PS_STR_PRESENT;
	if (!pw.done)
		pw.flags |= PS_STR_TRUNCATED; /* deeper than the walk bound: length unknown */
	if (pw.total == 0) {
		area[start] = '/';
		ps_str_set(desc, area_offset + start, 1, 1, pw.flags);
		return 1;
	}
	__u32 room = pw.total < PS_PATH_MAX ? pw.total : PS_PATH_MAX;
	pw.end = room;
	ps_walk_start(&pw.w, path);
	bpf_loop(PS_PATH_DEPTH, ps_path_copy_step, &pw, 0);

	/* Values read back from the loop state are unbounded for the verifier: re-bound them. */
	__u32 end = pw.end > room ? room : pw.end;
	__u32 length = room - end;
	__u32 original = length;
	if (pw.flags & PS_STR_TRUNCATED)
		original = pw.done ? pw.total : 0; /* 0: unknown, the walk did not reach the root */
	ps_str_set(desc, area_offset + start + end, length, original, pw.flags);
	return room;
}

#endif
