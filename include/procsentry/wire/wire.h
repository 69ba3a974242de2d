/* procsentry wire format: the one contract between kernel sensors and user space.
 *
 * Compiled by clang -target bpf (src/bpf), by mingw-w64 for the Windows driver and by
 * g++/clang++ for user space. Little-endian, fixed-width types, natural alignment with
 * explicit padding (never packed: BPF cannot do unaligned access), and a static assert on
 * every size and offset so the three compilers cannot disagree. No logic lives here.
 *
 * A record is a ps_header followed by a type-specific body, followed by variable data.
 * Variable fields are ps_str descriptors whose offset is relative to the record start.
 * docs/wire-format.md describes the versioning rules.
 */
#ifndef PROCSENTRY_WIRE_H
#define PROCSENTRY_WIRE_H

#include "procsentry/wire/wire_types.h"

#define PS_WIRE_MAGIC 0x1337
#define PS_WIRE_VERSION 2
/* Version 1 records (ps_exec without the image facts) are still read. */
#define PS_WIRE_VERSION_MIN 1

#define PS_COMM_LEN 16
/* Kernel-side capture limits (bytes). The argv limit is set at load time. */
#define PS_PATH_MAX 4096
#define PS_ARGV_MIN_CAP 4096u
#define PS_ARGV_DEFAULT_CAP 32768u
#define PS_ARGV_MAX_CAP 1048576u
/* Steps of the in-kernel path walk (a component or a mount crossing each). With bpf_loop
 * (5.17+) any path of PS_PATH_MAX bytes is followed to its root; without it (5.8-5.16) a
 * bounded loop the verifier can follow: deeper paths are marked truncated, length unknown. */
#define PS_PATH_STEPS_LOOP 4096
#define PS_PATH_STEPS_BOUNDED 32
/* Largest record any sensor may emit; the decoder rejects anything bigger. */
#define PS_RECORD_MAX (PS_ARGV_MAX_CAP + 8 * PS_PATH_MAX)

enum ps_record_type {
	PS_REC_EXEC = 1,        /* process image replaced (execve, execveat) */
	PS_REC_EXEC_FAILED = 2, /* an exec attempt that returned an error */
	PS_REC_FORK = 3,        /* new process (not a new thread) */
	PS_REC_EXIT = 4,        /* last thread of a process exited */
	PS_REC_LOST = 5,        /* records the kernel side had to drop */
	PS_REC_CREATE = 6,      /* Windows: process created with a new image */
	PS_REC_CAPTURE = 7,     /* a capture file's header (user space writes it, never a sensor) */
	PS_REC_TYPE_MAX = 7,
};

/* Which clock ps_header.timestamp_ns counts in. */
enum ps_clock {
	PS_CLOCK_BOOTTIME = 1,   /* Linux CLOCK_BOOTTIME: ns since boot, suspend included */
	PS_CLOCK_UNIX_EPOCH = 2, /* ns since 1970-01-01 UTC (Windows: from KeQuerySystemTime) */
};

/* ps_str.flags */
#define PS_STR_PRESENT 0x1u    /* the field was captured (absent fields have length 0) */
#define PS_STR_TRUNCATED 0x2u  /* length < original_length: the capture limit cut it */
#define PS_STR_UTF16LE 0x4u    /* bytes are UTF-16LE (Windows), otherwise raw bytes (UTF-8 by convention) */
#define PS_STR_NUL_LIST 0x8u   /* a list of NUL-terminated items (argv) */
#define PS_STR_UNREADABLE 0x10u /* v2: the kernel had original_length bytes but reading them failed */
#define PS_STR_FLAGS_KNOWN 0x1fu

/* ps_exec_context: an id the kernel has not set (audit loginuid and sessionid) */
#define PS_ID_UNSET 0xffffffffu
#define PS_TTY_NAME_LEN 32

/* ps_exec.exec_flags */
#define PS_EXEC_SCRIPT 0x1u   /* an interpreter ran the file named by filename (#! or binfmt_misc) */
/* v2 */
#define PS_EXEC_FD 0x2u              /* the exec named a file descriptor (fexecve, execveat AT_EMPTY_PATH) */
#define PS_EXEC_IMAGE_INODE 0x4u     /* image_uid and image_mode are set */
#define PS_EXEC_IMAGE_MEMFD 0x8u     /* the image is a memfd (no file on any disk) */
#define PS_EXEC_IMAGE_DELETED 0x10u  /* the image's file was unlinked before the exec */
#define PS_EXEC_IMAGE_UPPER 0x20u    /* the image is in an overlayfs upper layer */
#define PS_EXEC_FLAGS_KNOWN 0x3fu

/* ps_create.create_flags */
#define PS_CREATE_FILE_OPEN_NAME_AVAILABLE 0x1u /* image is the name used to open the file */
#define PS_CREATE_PARENT_START_TIME 0x2u        /* the body has parent_start_time_ns (else it ends before it) */
#define PS_CREATE_TOKEN 0x4u /* the body has the token block (needs PS_CREATE_PARENT_START_TIME; else it ends before it) */
#define PS_CREATE_SUBSYSTEM_PROCESS 0x8u /* a subsystem (pico) process: WSL's Linux processes */

/* ps_create.token_flags: which of the primary token's facts the driver could read */
#define PS_TOKEN_USER 0x1u       /* user_sid */
#define PS_TOKEN_INTEGRITY 0x2u  /* integrity_rid */
#define PS_TOKEN_ELEVATION 0x4u  /* elevated and elevation_type */
#define PS_TOKEN_STATISTICS 0x8u /* logon_id and token_type */
#define PS_TOKEN_FLAGS_KNOWN 0xfu
/* A SID's largest binary form: 8 bytes plus 15 sub-authorities (SECURITY_MAX_SID_SIZE). */
#define PS_SID_MAX 68

/* ps_lost.cause */
enum ps_lost_cause {
	PS_LOST_RINGBUF_FULL = 1, /* BPF ring buffer had no room for a reservation */
	PS_LOST_QUEUE_FULL = 2,   /* Windows driver queue reached its count or byte limit */
	PS_LOST_ALLOC_FAILED = 3, /* Windows pool allocation failed */
	PS_LOST_CAUSE_MAX = 3,
};

struct ps_header {
	ps_u16 magic;        /* PS_WIRE_MAGIC */
	ps_u8 version;       /* PS_WIRE_VERSION */
	ps_u8 type;          /* enum ps_record_type */
	ps_u32 size;         /* whole record in bytes, header included */
	ps_u64 timestamp_ns; /* when the event happened, in the clock named by `clock` */
	ps_u8 clock;         /* enum ps_clock */
	ps_u8 reserved0[3];
	ps_u32 cpu;          /* CPU that produced the record (diagnostics) */
};

/* A variable field: `length` bytes at `offset` from the record start. */
struct ps_str {
	ps_u32 offset;
	ps_u32 length;
	ps_u32 original_length; /* length before any capture limit applied */
	ps_u16 flags;           /* PS_STR_* */
	ps_u16 reserved0;
};

/* The process the record is about, as the kernel saw it at that moment. */
struct ps_task {
	ps_u32 pid;  /* thread-group id */
	ps_u32 tid;  /* thread that did it */
	ps_u32 ppid; /* real parent's thread-group id */
	ps_u32 uid;
	ps_u32 gid;
	ps_u32 euid;
	ps_u64 start_time_ns; /* process start, CLOCK_BOOTTIME (Linux) or epoch ns (Windows) */
	char comm[PS_COMM_LEN];
};

/* Where and as whom an exec runs, read in the kernel at exec time so it is right even for
 * a process that is gone before user space sees the record. */
struct ps_exec_context {
	ps_u64 cgroup_id;  /* cgroup v2 id (the cgroup directory's inode number); 0 if none */
	ps_u32 loginuid;   /* audit login uid, PS_ID_UNSET when not set */
	ps_u32 sessionid;  /* audit session id, PS_ID_UNSET when not set */
	ps_u32 pid_ns;     /* inode number of the process's pid namespace */
	ps_u32 reserved0;
	char tty[PS_TTY_NAME_LEN]; /* controlling terminal's kernel name ("pts3"), empty if none */
};

struct ps_exec {
	struct ps_header hdr;
	struct ps_task task;
	ps_u32 exec_flags; /* PS_EXEC_* */
	ps_u32 argc;
	struct ps_str image;    /* absolute path of the file the kernel runs */
	struct ps_str filename; /* exactly as passed to execve */
	struct ps_str cwd;      /* working directory at exec */
	struct ps_str argv;     /* NUL-separated, PS_STR_NUL_LIST */
	struct ps_exec_context context;
	/* v2: the inode the kernel runs (valid with PS_EXEC_IMAGE_INODE) */
	ps_u32 image_uid;
	ps_u32 image_mode; /* st_mode: type and permission bits */
};
/* A version 1 exec record ends after `context`. */
#define PS_EXEC_V1_SIZE 200

struct ps_exec_failed {
	struct ps_header hdr;
	struct ps_task task;
	ps_s32 error; /* positive errno */
	ps_u32 reserved0;
	struct ps_str filename;
};

struct ps_fork {
	struct ps_header hdr;
	struct ps_task task; /* the child */
	ps_u32 parent_pid;
	ps_u32 parent_tid;
	ps_u64 parent_start_time_ns;
};

/* ps_exit.exit_flags */
#define PS_EXIT_WINDOWS_CODE 0x1u /* exit_status is a Windows exit code, not a wait(2) status */

struct ps_exit {
	struct ps_header hdr;
	struct ps_task task;
	ps_u32 exit_status; /* wait(2) status: (code << 8) | signal | 0x80 if core dumped */
	ps_u32 exit_flags;  /* PS_EXIT_* */
};

/* ps_lost.lost_flags (v2) */
#define PS_LOST_RUNNING_TOTAL 0x1u /* count is the cause's total since load (Linux sensor), not a delta */

struct ps_lost {
	struct ps_header hdr;
	ps_u64 count;
	ps_u32 cause; /* enum ps_lost_cause */
	ps_u32 lost_flags; /* PS_LOST_*; reserved (zero) in version 1 */
};

/* Windows: a process was created with a new image (the seed's event). uid/gid/euid and comm
 * are zero (Windows has neither); start_time_ns is the process's creation time
 * (PsGetProcessCreateTimeQuadPart), the same value its exit record carries. */
struct ps_create {
	struct ps_header hdr;
	struct ps_task task;      /* pid, ppid = ParentProcessId, tid = creating thread */
	ps_u32 creator_pid;       /* CreatingThreadId.UniqueProcess */
	ps_u32 session_id;
	ps_u32 create_flags;      /* PS_CREATE_* */
	ps_u32 reserved0;
	struct ps_str image;        /* ImageFileName, UTF-16LE; absent when Windows gave none */
	struct ps_str command_line; /* CommandLine, UTF-16LE; absent when Windows gave none */
	/* With PS_CREATE_PARENT_START_TIME: the parent's creation time, epoch ns; 0 when the
	 * parent could not be looked up. Without the flag the body ends at PS_CREATE_BASE_SIZE. */
	ps_u64 parent_start_time_ns;
	/* With PS_CREATE_TOKEN: the new process's primary token, read in the callback; each fact
	 * is valid only with its PS_TOKEN_* flag. Without PS_CREATE_TOKEN the body ends at
	 * PS_CREATE_PARENT_SIZE. */
	ps_u64 logon_id;        /* TokenStatistics.AuthenticationId: HighPart << 32 | LowPart */
	ps_u32 token_flags;     /* PS_TOKEN_* */
	ps_u32 integrity_rid;   /* the mandatory label's RID: 0x1000 low, 0x2000 medium, 0x3000 high... */
	ps_u8 token_type;       /* TOKEN_TYPE: 1 primary, 2 impersonation */
	ps_u8 elevation_type;   /* TOKEN_ELEVATION_TYPE: 1 default, 2 full, 3 limited */
	ps_u8 elevated;         /* TOKEN_ELEVATION.TokenIsElevated: 0 or 1 */
	ps_u8 reserved1[5];
	struct ps_str user_sid; /* TokenUser's SID, its binary form (raw bytes, at most PS_SID_MAX) */
};
#define PS_CREATE_BASE_SIZE 120
#define PS_CREATE_PARENT_SIZE 128

/* A capture (--save-raw) starts with this record, and again at each later append: what a
 * reader needs to print the capture's own times and process uids on any machine, any day.
 * Records after it, up to the next one, were recorded on that boot. */
#define PS_CAPTURE_VERSION 1
#define PS_BOOT_ID_LEN 40
struct ps_capture {
	struct ps_header hdr;    /* clock PS_CLOCK_UNIX_EPOCH; timestamp: when the capture began */
	ps_u64 boot_to_epoch_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME on the recording boot (two's complement) */
	ps_u64 uid_tick_ns;      /* process_uid start-time tick (Linux: 10,000,000, USER_HZ) */
	ps_u32 capture_version;  /* PS_CAPTURE_VERSION; later versions only append fields */
	ps_u32 reserved0;
	char boot_id[PS_BOOT_ID_LEN]; /* the recording boot's id, NUL-padded; empty where there is none */
};

PS_STATIC_ASSERT(sizeof(struct ps_header) == 24, "ps_header size");
PS_STATIC_ASSERT(sizeof(struct ps_capture) == 88, "ps_capture size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_capture, boot_id) == 48, "ps_capture.boot_id");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_header, size) == 4, "ps_header.size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_header, timestamp_ns) == 8, "ps_header.timestamp_ns");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_header, clock) == 16, "ps_header.clock");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_header, cpu) == 20, "ps_header.cpu");
PS_STATIC_ASSERT(sizeof(struct ps_str) == 16, "ps_str size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_str, original_length) == 8, "ps_str.original_length");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_str, flags) == 12, "ps_str.flags");
PS_STATIC_ASSERT(sizeof(struct ps_task) == 48, "ps_task size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_task, start_time_ns) == 24, "ps_task.start_time_ns");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_task, comm) == 32, "ps_task.comm");
PS_STATIC_ASSERT(sizeof(struct ps_exec_context) == 56, "ps_exec_context size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec_context, tty) == 24, "ps_exec_context.tty");
PS_STATIC_ASSERT(sizeof(struct ps_exec) == 208, "ps_exec size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec, image_uid) == PS_EXEC_V1_SIZE, "ps_exec.image_uid");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec, image_mode) == 204, "ps_exec.image_mode");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec, context) == 144, "ps_exec.context");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec, exec_flags) == 72, "ps_exec.exec_flags");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec, image) == 80, "ps_exec.image");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec, argv) == 128, "ps_exec.argv");
PS_STATIC_ASSERT(sizeof(struct ps_exec_failed) == 96, "ps_exec_failed size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec_failed, filename) == 80, "ps_exec_failed.filename");
PS_STATIC_ASSERT(sizeof(struct ps_fork) == 88, "ps_fork size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_fork, parent_start_time_ns) == 80, "ps_fork.parent_start_time_ns");
PS_STATIC_ASSERT(sizeof(struct ps_exit) == 80, "ps_exit size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exit, exit_status) == 72, "ps_exit.exit_status");
PS_STATIC_ASSERT(sizeof(struct ps_lost) == 40, "ps_lost size");
PS_STATIC_ASSERT(sizeof(struct ps_create) == 168, "ps_create size");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, parent_start_time_ns) == PS_CREATE_BASE_SIZE,
		 "ps_create.parent_start_time_ns");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, logon_id) == PS_CREATE_PARENT_SIZE, "ps_create.logon_id");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, token_flags) == 136, "ps_create.token_flags");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, integrity_rid) == 140, "ps_create.integrity_rid");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, token_type) == 144, "ps_create.token_type");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, user_sid) == 152, "ps_create.user_sid");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, image) == 88, "ps_create.image");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, command_line) == 104, "ps_create.command_line");
/* Every body with a task has it right after the header: the decoder relies on it. */
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec, task) == sizeof(struct ps_header), "ps_exec.task");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exec_failed, task) == sizeof(struct ps_header), "ps_exec_failed.task");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_fork, task) == sizeof(struct ps_header), "ps_fork.task");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_exit, task) == sizeof(struct ps_header), "ps_exit.task");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_create, task) == sizeof(struct ps_header), "ps_create.task");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_lost, cause) == 32, "ps_lost.cause");
PS_STATIC_ASSERT(PS_OFFSETOF(struct ps_lost, lost_flags) == 36, "ps_lost.lost_flags");

#endif /* PROCSENTRY_WIRE_H */
