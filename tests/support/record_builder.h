// Builds valid wire records for tests, the fuzz corpus and benchmarks. Offsets come from
// offsetof/sizeof via the structs, never hand-summed. Tests corrupt the bytes afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "procsentry/wire/wire.h"

namespace procsentry::test {

using Bytes = std::vector<std::uint8_t>;

struct TaskSpec {
  std::uint32_t pid = 4242, tid = 4242, ppid = 4100, uid = 1000, gid = 1000, euid = 1000;
  std::uint64_t start_time_ns = 1'000'000'000;
  std::string comm = "ls";
};

template <typename Body>
class RecordBuilder {
 public:
  RecordBuilder(std::uint8_t type, std::uint64_t timestamp_ns = 2'000'000'000, std::uint8_t clock = PS_CLOCK_BOOTTIME)
      : bytes_(sizeof(Body)) {
    ps_header hdr{};
    hdr.magic = PS_WIRE_MAGIC;
    hdr.version = PS_WIRE_VERSION;
    hdr.type = type;
    hdr.timestamp_ns = timestamp_ns;
    hdr.clock = clock;
    std::memcpy(bytes_.data(), &hdr, sizeof(hdr));
  }

  Body body() const {
    Body b{};
    std::memcpy(&b, bytes_.data(), sizeof(Body));
    return b;
  }
  void set_body(const Body& b) { std::memcpy(bytes_.data(), &b, sizeof(Body)); }

  // Appends `data` and returns its descriptor.
  ps_str add(std::string_view data, std::uint16_t flags = PS_STR_PRESENT, std::uint32_t original = UINT32_MAX) {
    ps_str s{};
    s.offset = static_cast<std::uint32_t>(bytes_.size());
    s.length = static_cast<std::uint32_t>(data.size());
    s.original_length = original == UINT32_MAX ? s.length : original;
    s.flags = flags;
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return s;
  }

  Bytes finish() {
    ps_header hdr{};
    std::memcpy(&hdr, bytes_.data(), sizeof(hdr));
    hdr.size = static_cast<std::uint32_t>(bytes_.size());
    std::memcpy(bytes_.data(), &hdr, sizeof(hdr));
    return bytes_;
  }

 private:
  Bytes bytes_;
};

inline ps_task make_task(const TaskSpec& spec) {
  ps_task t{};
  t.pid = spec.pid;
  t.tid = spec.tid;
  t.ppid = spec.ppid;
  t.uid = spec.uid;
  t.gid = spec.gid;
  t.euid = spec.euid;
  t.start_time_ns = spec.start_time_ns;
  std::memcpy(t.comm, spec.comm.data(), std::min(spec.comm.size(), sizeof(t.comm)));
  return t;
}

inline std::string join_argv(const std::vector<std::string>& argv) {
  std::string raw;
  for (const auto& a : argv) {
    raw += a;
    raw += '\0';
  }
  return raw;
}

struct ExecSpec {
  TaskSpec task;
  std::string image = "/usr/bin/ls";
  std::string filename = "/usr/bin/ls";
  std::string cwd = "/home/alice";
  std::vector<std::string> argv = {"ls", "-l", "/tmp/a b"};
  std::uint32_t exec_flags = 0;
  std::size_t argv_keep = SIZE_MAX;  // < raw size: truncate argv to this many bytes
  std::uint64_t cgroup_id = 0;
  std::uint32_t loginuid = PS_ID_UNSET;
  std::uint32_t sessionid = PS_ID_UNSET;
  std::uint32_t pid_ns = 0;
  std::string tty;  // copied into the fixed field, unterminated when it fills it
  // wire v2
  std::uint32_t image_uid = 0;
  std::uint32_t image_mode = 0;
  bool argv_unreadable = false;      // argv: nothing read of what the kernel had
  std::uint32_t image_original = 0;  // != 0: image is cut (truncated) from this length
};

inline Bytes exec_record(const ExecSpec& spec) {
  RecordBuilder<ps_exec> b(PS_REC_EXEC);
  ps_exec body = b.body();
  body.task = make_task(spec.task);
  body.exec_flags = spec.exec_flags;
  body.argc = static_cast<std::uint32_t>(spec.argv.size());
  body.image = spec.image_original != 0 ? b.add(spec.image, PS_STR_PRESENT | PS_STR_TRUNCATED, spec.image_original)
                                        : b.add(spec.image);
  body.filename = b.add(spec.filename);
  body.cwd = b.add(spec.cwd);
  body.image_uid = spec.image_uid;
  body.image_mode = spec.image_mode;
  std::string raw = join_argv(spec.argv);
  if (spec.argv_unreadable) {
    body.argv = b.add(std::string_view(), PS_STR_PRESENT | PS_STR_NUL_LIST | PS_STR_TRUNCATED | PS_STR_UNREADABLE,
                      static_cast<std::uint32_t>(raw.size()));
  } else if (spec.argv_keep < raw.size()) {
    body.argv = b.add(std::string_view(raw).substr(0, spec.argv_keep),
                      PS_STR_PRESENT | PS_STR_NUL_LIST | PS_STR_TRUNCATED, static_cast<std::uint32_t>(raw.size()));
  } else {
    body.argv = b.add(raw, PS_STR_PRESENT | PS_STR_NUL_LIST);
  }
  body.context.cgroup_id = spec.cgroup_id;
  body.context.loginuid = spec.loginuid;
  body.context.sessionid = spec.sessionid;
  body.context.pid_ns = spec.pid_ns;
  std::memcpy(body.context.tty, spec.tty.data(), std::min(spec.tty.size(), sizeof(body.context.tty)));
  b.set_body(body);
  return b.finish();
}

// A process table's worth of records: each pid started (1000 + pid) ticks after boot, so that
// a parent's start time is known from its pid alone (benches and rule tests).
constexpr std::uint64_t kTickNs = 10'000'000;
inline TaskSpec task_of(std::uint32_t pid, std::uint32_t ppid, std::string comm) {
  TaskSpec t;
  t.pid = t.tid = pid;
  t.ppid = ppid;
  t.start_time_ns = (1000 + pid) * kTickNs;
  t.comm = std::move(comm);
  return t;
}
// An exec of `image` by pid (comm: argv[0] cut to 15 bytes, as the kernel does).
inline Bytes exec_of(std::uint32_t pid, std::uint32_t ppid, const std::string& image, std::vector<std::string> argv,
                     std::string cwd) {
  ExecSpec spec;
  spec.task = task_of(pid, ppid, argv.front().substr(0, 15));
  spec.image = spec.filename = image;
  spec.argv = std::move(argv);
  spec.cwd = std::move(cwd);
  return exec_record(spec);
}

inline Bytes exec_failed_record(const TaskSpec& task, std::int32_t error, std::string_view filename) {
  RecordBuilder<ps_exec_failed> b(PS_REC_EXEC_FAILED);
  ps_exec_failed body = b.body();
  body.task = make_task(task);
  body.error = error;
  body.filename = b.add(filename);
  b.set_body(body);
  return b.finish();
}

inline Bytes fork_record(const TaskSpec& child, std::uint32_t parent_pid, std::uint64_t parent_start_ns) {
  RecordBuilder<ps_fork> b(PS_REC_FORK);
  ps_fork body = b.body();
  body.task = make_task(child);
  body.parent_pid = parent_pid;
  body.parent_tid = parent_pid;
  body.parent_start_time_ns = parent_start_ns;
  b.set_body(body);
  return b.finish();
}

inline Bytes exit_record(const TaskSpec& task, std::uint32_t wait_status, std::uint64_t timestamp_ns) {
  RecordBuilder<ps_exit> b(PS_REC_EXIT, timestamp_ns);
  ps_exit body = b.body();
  body.task = make_task(task);
  body.exit_status = wait_status;
  b.set_body(body);
  return b.finish();
}

inline Bytes lost_record(std::uint64_t count, std::uint32_t cause) {
  RecordBuilder<ps_lost> b(PS_REC_LOST);
  ps_lost body = b.body();
  body.count = count;
  body.cause = cause;
  b.set_body(body);
  return b.finish();
}

// Reads or overwrites a body struct of a finished record, for corruption tests.
template <typename Body>
Body read_body(const Bytes& bytes) {
  Body b{};
  std::memcpy(&b, bytes.data(), sizeof(Body));
  return b;
}
template <typename Body>
void write_body(Bytes& bytes, const Body& b) {
  std::memcpy(bytes.data(), &b, sizeof(Body));
}

}  // namespace procsentry::test
