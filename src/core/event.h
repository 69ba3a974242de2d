// The decoded, platform-neutral event every sink consumes. Text fields are views into
// the record bytes (or into `storage` for converted text): an Event is valid only while
// the record it was decoded from is alive. Sinks copy what they keep.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "process_uid.h"

namespace procsentry {

// hash and heartbeat are made by procsentry itself (--hash, --heartbeat), the others come from a sensor.
enum class EventKind : std::uint8_t {
  exec = 1,
  exec_failed = 2,
  fork = 3,
  exit = 4,
  lost = 5,
  create = 6,
  hash = 7,
  heartbeat = 8
};
// A new kind goes last and moves this: every table indexed by kind is sized from it.
inline constexpr EventKind kLastEventKind = EventKind::heartbeat;
inline constexpr std::size_t kEventKindSlots = static_cast<std::size_t>(kLastEventKind) + 1;  // index: EventKind

// Lost records' causes (the wire's PS_LOST_*: 1 ringbuf_full, 2 queue_full, 3 alloc_failed; 0 unknown).
inline constexpr std::size_t kLostCauseSlots = 4;

std::string_view to_string(EventKind kind);
std::optional<EventKind> event_kind_from_string(std::string_view name);

// A variable-length text field as the kernel captured it: raw bytes (UTF-8 by convention,
// possibly invalid), plus whether it was captured at all and whether a limit cut it.
struct Text {
  std::string_view bytes;
  bool present = false;
  bool truncated = false;
  std::uint32_t original_length = 0;  // when truncated: the whole length, 0 if unknown
  bool unreadable = false;            // the kernel had original_length bytes, the read failed
};

struct Task {
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  std::uint32_t ppid = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t euid = 0;
  std::int64_t start_time_ns = 0;  // wall clock, ns since the Unix epoch
  // Start time in the sensor's own clock (Linux: CLOCK_BOOTTIME), which unlike the wall clock
  // never moves: what the process identity is derived from.
  std::uint64_t start_time_raw_ns = 0;
  std::string_view comm;
  // Linux records carry tid, uid, gid, euid and comm; Windows records (and hash events) have
  // no such fields, and sinks omit them rather than print zeros.
  bool has_uid_and_comm = true;
};

// A heartbeat's counts since procsentry started (--heartbeat): what a receiver compares with
// what it got.
struct HeartbeatCounts {
  std::uint32_t interval_s = 0;
  std::array<std::uint64_t, kEventKindSlots> emitted{};      // index: EventKind; written before it
  std::array<std::uint64_t, kLostCauseSlots> kernel_lost{};  // index: lost cause
  struct OutputDrops {
    std::string name;
    std::uint64_t dropped = 0;  // events its full backlog cost it
  };
  std::vector<OutputDrops> dropped;
};

// create (Windows): the new process's primary token, each fact present when the driver
// could read it (windows_token.h names the numbers).
struct WindowsToken {
  std::string_view user_sid;                   // "S-1-5-21-...-1001"; empty: not read
  std::optional<std::uint32_t> integrity_rid;  // the mandatory label's RID (0x2000: medium)
  std::optional<bool> elevated;
  std::uint8_t elevation_type = 0;        // with elevated: 1 default, 2 full, 3 limited
  std::optional<std::uint64_t> logon_id;  // the logon session (AuthenticationId)
  std::uint8_t token_type = 0;            // with logon_id: 1 primary, 2 impersonation
};

struct Event {
  EventKind kind = EventKind::exec;
  std::int64_t time_ns = 0;  // wall clock, ns since the Unix epoch
  // Completeness (README, "Proving nothing was lost"): the pipeline numbers every event it
  // hands the outputs 1, 2, 3... per run, on the event thread, so every output carries the same
  // number for the same event; 0: not numbered (an event no pipeline passed). host_id and
  // boot_id say which machine and boot the numbers belong to (empty: unknown).
  std::uint64_t seq = 0;
  std::string_view host_id;
  std::string_view boot_id;
  std::uint32_t cpu = 0;
  Task task;

  // exec, create, exec_failed (filename only)
  Text image;
  Text filename;
  Text cwd;
  Text argv_raw;  // the NUL-separated bytes exactly as captured
  std::vector<std::string_view> argv;
  bool argv_truncated = false;
  std::uint32_t argv_original_length = 0;
  bool argv_unreadable = false;  // the kernel had argv_original_length bytes but could not read them
  // A secret in argv, parent_argv or command_line was masked (src/redact): those views then
  // point into the redactor's buffers, and argv_raw holds the masked bytes.
  bool argv_redacted = false;
  bool is_script = false;
  bool exec_fd = false;  // the exec named a file descriptor (fexecve, execveat AT_EMPTY_PATH)

  // exec: the inode the kernel runs (wire v2; absent in older records)
  std::optional<std::uint32_t> image_uid;
  std::optional<std::uint32_t> image_mode;  // st_mode: file type and permission bits
  bool image_memfd = false;                 // a memfd: no file on any disk
  bool image_deleted = false;               // unlinked before the exec (image ends in " (deleted)")
  bool image_upper_layer = false;           // in an overlayfs upper layer
  std::string script;                       // absolute path of the script when is_script (derived: cwd + filename)

  // exec context, read by the kernel sensor
  std::uint64_t cgroup_id = 0;  // 0: unknown
  std::optional<std::uint32_t> loginuid;
  std::optional<std::uint32_t> audit_session;
  std::uint32_t pid_ns = 0;  // 0: unknown
  std::string_view tty;      // kernel name, e.g. "pts3"; empty if none

  // exec_failed
  std::int32_t error = 0;  // positive errno

  // fork; parent_start_time also on a Windows create (0: the record did not carry it)
  std::uint32_t parent_pid = 0;
  std::uint32_t parent_tid = 0;
  std::int64_t parent_start_time_ns = 0;  // wall clock
  std::uint64_t parent_start_time_raw_ns = 0;

  // exit: wait(2) status, split for convenience
  std::uint32_t exit_status = 0;
  std::optional<int> exit_code;    // set when the process exited normally
  std::optional<int> exit_signal;  // set when a signal terminated it
  bool core_dumped = false;
  std::int64_t duration_ns = 0;  // exit time - start time

  // create (Windows): one command line, not an argv list
  Text command_line;
  std::uint32_t creator_pid = 0;
  std::uint32_t session_id = 0;
  bool subsystem_process = false;  // a subsystem (pico) process: WSL's Linux processes
  WindowsToken token;

  // hash (user space): the SHA-256 of an image an earlier exec event reported as pending
  // lost
  std::uint64_t lost_count = 0;
  std::uint32_t lost_cause = 0;

  // heartbeat: the pipeline's counts (owned by it, valid while the event is written)
  const HeartbeatCounts* heartbeat = nullptr;

  // Enrichment filled by the pipeline (not by the decoder).
  std::string_view user;  // name of task.uid (create: of token.user_sid, DOMAIN\name), empty if unknown
  Text known_image;       // for fork/exit: the image the process table knows

  // Lineage, from the process table. Views stay valid until the table applies this event.
  ProcessUid process_uid;
  ProcessUid parent_uid;       // the parent at the time of the event (ppid), empty if unknown
  Text parent_image;           // exec: what the parent runs
  Text parent_argv_raw;        // exec: the parent's argv, NUL-separated
  bool seeded = false;         // fork/exit: what the table knew of the process came from the OS
  bool parent_seeded = false;  // exec, fork: what it knew of the parent came from the OS
  struct Ancestor {
    std::uint32_t pid = 0;
    ProcessUid uid;
    std::string_view image;
  };
  std::vector<Ancestor> ancestry;  // exec with --ancestry: parent first, up to pid 1

  // Context resolved in user space from the kernel's ids.
  std::string_view group;         // name of task.gid
  std::string_view cgroup;        // exec: cgroup v2 path of cgroup_id
  std::string_view container_id;  // exec: the container the cgroup path names

  // exec with --hash: the image's SHA-256 (hex), or why there is none.
  std::string_view sha256;
  std::string_view sha256_missing;

  // The names of the include rules the event matched (--config rules), in the rules' order;
  // views into the rule set, which outlives every event it tags.
  std::vector<std::string_view> rules;

  // Owned text the views may point into (e.g. converted UTF-16): a string never moves once
  // added, so views into it stay valid until reset().
  std::vector<std::unique_ptr<std::string>> storage;

  // Back to defaults, keeping buffers' capacity (no allocation per record). It
  // default-initialises: every member above needs its initializer (or a class type's own).
  void reset();
};

// The path the event is about: what it ran or tried to run (exec, create, hash:
// the image; exec_failed: the filename tried; fork, exit: the image the table knows). What
// the outputs show in their image column and what --image globs match.
std::string_view image_of(const Event& event);

}  // namespace procsentry
