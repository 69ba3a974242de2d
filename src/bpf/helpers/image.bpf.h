/* Facts about the file an exec runs, from its inode and from how the exec named it. */
#ifndef PROCSENTRY_BPF_IMAGE_H
#define PROCSENTRY_BPF_IMAGE_H

#include "record.bpf.h"

#define PS_OVERLAYFS_SUPER_MAGIC 0x794c7630

/* overlayfs is a module on most distribution kernels: its types come from the module's BTF
 * when it is loaded, and are absent otherwise (then nothing is reported as upper layer). */
struct ovl_inode___ps {
	struct dentry *__upperdentry;
	struct inode vfs_inode;
} __attribute__((preserve_access_index));

/* bprm->fdpath ("/dev/fd/N[/name]", allocated only when exec named a descriptor) is 5.9+. */
struct linux_binprm___fdpath {
	const char *fdpath;
} __attribute__((preserve_access_index));

/* An inode of overlayfs whose file lives in the upper (writable) layer: written or copied
 * up since the overlay was mounted. */
static __always_inline int ps_inode_in_upper_layer(struct inode *inode)
{
	if (!bpf_core_type_exists(struct ovl_inode___ps))
		return 0;
	if (BPF_CORE_READ(inode, i_sb, s_magic) != PS_OVERLAYFS_SUPER_MAGIC)
		return 0;
	struct ovl_inode___ps *ovl =
		(void *)((char *)inode - bpf_core_field_offset(struct ovl_inode___ps, vfs_inode));
	return BPF_CORE_READ(ovl, __upperdentry) != 0;
}

/* "/dev/fd/N" exactly: the kernel's name for execveat(fd, "", AT_EMPTY_PATH), which fexecve
 * uses. `head` holds the filename's first bytes (NUL-terminated within its 64). */
static __always_inline int ps_names_fd_only(const char *head)
{
	const char prefix[] = "/dev/fd/";

	for (int i = 0; i < 8; i++) {
		if (head[i] != prefix[i])
			return 0;
	}
	if (head[8] < '0' || head[8] > '9')
		return 0;
	for (int i = 9; i < 20; i++) {
		if (head[i] == 0)
			return 1;
		if (head[i] < '0' || head[i] > '9')
			return 0;
	}
	return 0;
}

/* The exec named a descriptor: on 5.9+ the kernel made bprm->fdpath for it, which a path the
 * caller spelled "/dev/fd/N" does not get; on 5.8 the spelling is all there is. */
static __always_inline int ps_exec_named_fd(struct linux_binprm *bprm, const char *head)
{
	struct linux_binprm___fdpath *b = (void *)bprm;

	if (bpf_core_field_exists(b->fdpath) && !BPF_CORE_READ(b, fdpath))
		return 0;
	return ps_names_fd_only(head);
}

static __always_inline void ps_image_fill(struct ps_exec *rec, struct linux_binprm *bprm)
{
	struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);

	if (!inode)
		return;
	rec->image_uid = BPF_CORE_READ(inode, i_uid.val);
	rec->image_mode = BPF_CORE_READ(inode, i_mode);
	rec->exec_flags |= PS_EXEC_IMAGE_INODE;
	if (ps_inode_in_upper_layer(inode))
		rec->exec_flags |= PS_EXEC_IMAGE_UPPER;
}

#endif
