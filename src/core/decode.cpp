#include "core/decode.h"

#include <fmt/core.h>

#include <cstddef>
#include <cstring>

#include "core/utf16.h"
#include "core/windows_token.h"
#include "procsentry/wire/wire.h"

namespace procsentry {
namespace {

// Carries the kind out of the helpers together with the message.
struct Failure {
  DecodeErrorKind kind;
  std::string message;
};

template <typename Body>
bool read_body(std::span<const std::uint8_t> record, Body& body) {
  if (record.size() < sizeof(Body)) return false;
  std::memcpy(&body, record.data(), sizeof(Body));  // the span may be unaligned
  return true;
}

class RecordParser {
 public:
  RecordParser(std::span<const std::uint8_t> record, std::string_view type_name, std::size_t body_size, Event& event)
      : record_(record), type_name_(type_name), body_size_(body_size), event_(event) {}

  // Validates descriptor `s` and points `out` at its bytes (converted if UTF-16LE).
  bool text(const ps_str& s, std::string_view field, Text& out, bool is_list = false) {
    if ((s.flags & ~PS_STR_FLAGS_KNOWN) != 0) return fail(DecodeErrorKind::bad_field_flags, field, s, "unknown flags");
    bool list = (s.flags & PS_STR_NUL_LIST) != 0;
    if (list != is_list) {
      return fail(DecodeErrorKind::bad_field_flags, field, s, is_list ? "list flag missing" : "unexpected list flag");
    }
    if ((s.flags & PS_STR_PRESENT) == 0) {
      if (s.length != 0 || s.original_length != 0 || (s.flags & PS_STR_TRUNCATED) != 0) {
        return fail(DecodeErrorKind::bad_field_length, field, s, "absent field with a length");
      }
      out = Text{};
      return true;
    }
    std::uint64_t end = std::uint64_t{s.offset} + s.length;
    if (s.offset < body_size_ || end > record_.size()) {
      return fail(DecodeErrorKind::field_out_of_bounds, field, s,
                  fmt::format("outside the data area [{}, {})", body_size_, record_.size()));
    }
    bool truncated = (s.flags & PS_STR_TRUNCATED) != 0;
    if (truncated ? (s.original_length != 0 && s.original_length <= s.length) : s.original_length != s.length) {
      return fail(DecodeErrorKind::bad_field_length, field, s,
                  fmt::format("original length {} inconsistent with the truncated flag", s.original_length));
    }
    // Unreadable: nothing captured of what the kernel had, so also truncated, and v2 only.
    bool unreadable = (s.flags & PS_STR_UNREADABLE) != 0;
    if (unreadable && (!truncated || s.length != 0 || version_ < 2)) {
      return fail(DecodeErrorKind::bad_field_flags, field, s, "unreadable needs truncated, no bytes and version 2");
    }
    std::string_view bytes(reinterpret_cast<const char*>(record_.data()) + s.offset, s.length);
    if ((s.flags & PS_STR_UTF16LE) != 0) {
      if (s.length % 2 != 0) return fail(DecodeErrorKind::bad_field_length, field, s, "odd UTF-16 length");
      event_.storage.push_back(std::make_unique<std::string>(utf16le_to_utf8(bytes)));
      bytes = *event_.storage.back();
    }
    out = Text{bytes, true, truncated, s.original_length, unreadable};
    return true;
  }
  void set_version(std::uint8_t version) { version_ = version; }

  bool fail(DecodeErrorKind kind, std::string_view field, const ps_str& s, std::string_view why) {
    failure_ = Failure{kind, fmt::format("{} record: {} field [offset {}, length {}, flags {:#x}]: {}", type_name_,
                                         field, s.offset, s.length, s.flags, why)};
    return false;
  }
  bool fail(DecodeErrorKind kind, std::string_view why) {
    failure_ = Failure{kind, fmt::format("{} record: {}", type_name_, why)};
    return false;
  }
  Failure& failure() { return failure_; }

 private:
  std::span<const std::uint8_t> record_;
  std::string_view type_name_;
  std::size_t body_size_;
  Event& event_;
  std::uint8_t version_ = PS_WIRE_VERSION;
  Failure failure_{DecodeErrorKind::none, {}};
};

// A view into the record itself (not into a local copy of the body), up to the first NUL.
std::string_view comm_in(std::span<const std::uint8_t> record, std::size_t task_offset) {
  const char* comm = reinterpret_cast<const char*>(record.data()) + task_offset + offsetof(ps_task, comm);
  return {comm, strnlen(comm, PS_COMM_LEN)};
}

// Splits NUL-separated argv. A complete list ends with a NUL; a truncated one may not.
bool split_argv(const Text& raw, std::uint32_t argc, Event& event, RecordParser& parser) {
  std::string_view rest = raw.bytes;
  if (!raw.truncated && !rest.empty() && rest.back() != '\0') {
    return parser.fail(DecodeErrorKind::bad_argv, "argv does not end with a NUL and is not marked truncated");
  }
  while (!rest.empty()) {
    std::size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) {
      event.argv.push_back(rest);
      break;
    }
    event.argv.push_back(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
  }
  bool count_ok = raw.truncated ? event.argv.size() <= argc : event.argv.size() == argc;
  if (raw.present && !count_ok) {
    return parser.fail(DecodeErrorKind::bad_argv,
                       fmt::format("argv holds {} items but argc is {}", event.argv.size(), argc));
  }
  return true;
}

void fill_context(const ps_exec_context& c, std::span<const std::uint8_t> record, Event& e) {
  e.cgroup_id = c.cgroup_id;
  if (c.loginuid != PS_ID_UNSET) e.loginuid = c.loginuid;
  if (c.sessionid != PS_ID_UNSET) e.audit_session = c.sessionid;
  e.pid_ns = c.pid_ns;
  // A fixed array the kernel NUL-terminates; a hostile record may not, so stop at its end.
  const char* tty =
      reinterpret_cast<const char*>(record.data()) + offsetof(ps_exec, context) + offsetof(ps_exec_context, tty);
  e.tty = std::string_view(tty, strnlen(tty, PS_TTY_NAME_LEN));
}

// cwd + "/" + filename, without leading "./" segments; lexical (".." is kept as is).
std::string absolute_script(std::string_view filename, std::string_view cwd) {
  if (!filename.empty() && filename.front() == '/') return std::string(filename);
  while (filename.starts_with("./")) filename.remove_prefix(2);
  std::string path(cwd);
  if (path.empty() || path.back() != '/') path += '/';
  path += filename;
  return path;
}

// The token block of a create record: "" when it is sound, else why not.
std::string decode_token(const ps_create& body, RecordParser& p, Event& e) {
  if ((body.token_flags & ~PS_TOKEN_FLAGS_KNOWN) != 0) {
    return fmt::format("create record: unknown token flags {:#x}", body.token_flags);
  }
  Text sid;
  if (!p.text(body.user_sid, "user_sid", sid)) return std::move(p.failure().message);
  const bool has_user = (body.token_flags & PS_TOKEN_USER) != 0;
  if (has_user != sid.present || (sid.present && (body.user_sid.flags & ~PS_STR_PRESENT) != 0)) {
    return "create record: user_sid must be present, whole raw bytes exactly when PS_TOKEN_USER is set";
  }
  if (has_user) {
    auto text = sid_to_string(sid.bytes);
    if (!text) return fmt::format("create record: user_sid of {} bytes is not a SID", sid.bytes.size());
    e.storage.push_back(std::make_unique<std::string>(std::move(*text)));
    e.token.user_sid = *e.storage.back();
  }
  if ((body.token_flags & PS_TOKEN_INTEGRITY) != 0) e.token.integrity_rid = body.integrity_rid;
  if ((body.token_flags & PS_TOKEN_ELEVATION) != 0) {
    if (body.elevated > 1) return fmt::format("create record: elevated is {}", body.elevated);
    e.token.elevated = body.elevated != 0;
    e.token.elevation_type = body.elevation_type;
  }
  if ((body.token_flags & PS_TOKEN_STATISTICS) != 0) {
    e.token.logon_id = body.logon_id;
    e.token.token_type = body.token_type;
  }
  return {};
}

}  // namespace

std::string_view to_string(DecodeErrorKind kind) {
  switch (kind) {
    case DecodeErrorKind::none:
      return "none";
    case DecodeErrorKind::too_short:
      return "too_short";
    case DecodeErrorKind::bad_magic:
      return "bad_magic";
    case DecodeErrorKind::bad_version:
      return "bad_version";
    case DecodeErrorKind::bad_type:
      return "bad_type";
    case DecodeErrorKind::size_mismatch:
      return "size_mismatch";
    case DecodeErrorKind::bad_clock:
      return "bad_clock";
    case DecodeErrorKind::field_out_of_bounds:
      return "field_out_of_bounds";
    case DecodeErrorKind::bad_field_flags:
      return "bad_field_flags";
    case DecodeErrorKind::bad_field_length:
      return "bad_field_length";
    case DecodeErrorKind::bad_argv:
      return "bad_argv";
    case DecodeErrorKind::bad_value:
      return "bad_value";
  }
  return "unknown";
}

Result<Event*> Decoder::decode(std::span<const std::uint8_t> record) {
  auto error = [this](DecodeErrorKind kind, std::string message) -> Result<Event*> {
    last_error_ = kind;
    return Error{std::move(message)};
  };
  ps_header hdr{};
  if (!read_body(record, hdr)) {
    return error(DecodeErrorKind::too_short, fmt::format("record of {} bytes is shorter than a header", record.size()));
  }
  if (hdr.magic != PS_WIRE_MAGIC) return error(DecodeErrorKind::bad_magic, fmt::format("bad magic {:#x}", hdr.magic));
  if (hdr.version < PS_WIRE_VERSION_MIN || hdr.version > PS_WIRE_VERSION) {
    return error(DecodeErrorKind::bad_version, fmt::format("wire format version {} (this build reads {} to {})",
                                                           hdr.version, PS_WIRE_VERSION_MIN, PS_WIRE_VERSION));
  }
  if (hdr.size != record.size()) {
    return error(DecodeErrorKind::size_mismatch,
                 fmt::format("header says {} bytes, record has {}", hdr.size, record.size()));
  }
  if (hdr.clock != PS_CLOCK_BOOTTIME && hdr.clock != PS_CLOCK_UNIX_EPOCH) {
    return error(DecodeErrorKind::bad_clock, fmt::format("unknown clock {}", hdr.clock));
  }
  // Unsigned arithmetic: hostile timestamps wrap instead of overflowing a signed type.
  const std::uint64_t offset = hdr.clock == PS_CLOCK_BOOTTIME ? static_cast<std::uint64_t>(clock_.boot_to_epoch_ns) : 0;
  auto wall = [offset](std::uint64_t ns) { return static_cast<std::int64_t>(ns + offset); };

  event_.reset();
  Event& e = event_;
  e.time_ns = wall(hdr.timestamp_ns);
  e.cpu = hdr.cpu;
  // Every body that has a task has it right after the header (static_asserts in wire.h).
  auto fill_task = [&](const ps_task& t) {
    e.task = Task{t.pid,
                  t.tid,
                  t.ppid,
                  t.uid,
                  t.gid,
                  t.euid,
                  wall(t.start_time_ns),
                  t.start_time_ns,
                  comm_in(record, sizeof(ps_header))};
  };
  auto too_short = [&](std::string_view name, std::size_t need) {
    return error(DecodeErrorKind::too_short,
                 fmt::format("{} record of {} bytes is shorter than its body ({})", name, record.size(), need));
  };

  switch (hdr.type) {
    case PS_REC_EXEC: {
      ps_exec body{};
      // Version 1 ends before the image facts: read what it has, the rest stays zero.
      const std::size_t body_size = hdr.version >= 2 ? sizeof(body) : PS_EXEC_V1_SIZE;
      if (record.size() < body_size) return too_short("exec", body_size);
      std::memcpy(&body, record.data(), body_size);
      RecordParser p(record, "exec", body_size, e);
      p.set_version(hdr.version);
      e.kind = EventKind::exec;
      const std::uint32_t known = hdr.version >= 2 ? PS_EXEC_FLAGS_KNOWN : PS_EXEC_SCRIPT;
      if ((body.exec_flags & ~known) != 0) {
        return error(DecodeErrorKind::bad_value, fmt::format("exec record: unknown flags {:#x}", body.exec_flags));
      }
      if ((body.exec_flags & PS_EXEC_IMAGE_MEMFD) != 0 && (body.exec_flags & PS_EXEC_IMAGE_DELETED) != 0) {
        return error(DecodeErrorKind::bad_value, "exec record: image both memfd and deleted");
      }
      fill_task(body.task);
      if (!p.text(body.image, "image", e.image) || !p.text(body.filename, "filename", e.filename) ||
          !p.text(body.cwd, "cwd", e.cwd) || !p.text(body.argv, "argv", e.argv_raw, true) ||
          !split_argv(e.argv_raw, body.argc, e, p)) {
        return error(p.failure().kind, std::move(p.failure().message));
      }
      e.argv_truncated = e.argv_raw.truncated;
      e.argv_original_length = e.argv_raw.original_length;
      e.argv_unreadable = e.argv_raw.unreadable;
      e.is_script = (body.exec_flags & PS_EXEC_SCRIPT) != 0;
      e.exec_fd = (body.exec_flags & PS_EXEC_FD) != 0;
      if ((body.exec_flags & PS_EXEC_IMAGE_INODE) != 0) {
        e.image_uid = body.image_uid;
        e.image_mode = body.image_mode;
      }
      e.image_memfd = (body.exec_flags & PS_EXEC_IMAGE_MEMFD) != 0;
      e.image_deleted = (body.exec_flags & PS_EXEC_IMAGE_DELETED) != 0;
      e.image_upper_layer = (body.exec_flags & PS_EXEC_IMAGE_UPPER) != 0;
      if (e.is_script && e.filename.present && (e.cwd.present || e.filename.bytes.starts_with('/'))) {
        e.script = absolute_script(e.filename.bytes, e.cwd.bytes);
      }
      fill_context(body.context, record, e);
      return &e;
    }
    case PS_REC_CREATE: {
      // Each flag appends to the body: PS_CREATE_PARENT_START_TIME parent_start_time_ns,
      // PS_CREATE_TOKEN (only after it) the token block.
      ps_create body{};
      if (record.size() < PS_CREATE_BASE_SIZE) return too_short("create", PS_CREATE_BASE_SIZE);
      std::memcpy(&body, record.data(), PS_CREATE_BASE_SIZE);
      const bool has_parent_start = (body.create_flags & PS_CREATE_PARENT_START_TIME) != 0;
      const bool has_token = (body.create_flags & PS_CREATE_TOKEN) != 0;
      if (has_token && !has_parent_start) {
        return error(DecodeErrorKind::bad_value, "create record: a token block without the parent's start time");
      }
      const std::size_t body_size = has_token          ? sizeof(body)
                                    : has_parent_start ? PS_CREATE_PARENT_SIZE
                                                       : PS_CREATE_BASE_SIZE;
      if (record.size() < body_size) return too_short("create", body_size);
      std::memcpy(&body, record.data(), body_size);
      RecordParser p(record, "create", body_size, e);
      e.kind = EventKind::create;
      fill_task(body.task);
      e.task.has_uid_and_comm = false;
      e.creator_pid = body.creator_pid;
      e.session_id = body.session_id;
      e.subsystem_process = (body.create_flags & PS_CREATE_SUBSYSTEM_PROCESS) != 0;
      if (has_parent_start && body.parent_start_time_ns != 0) {
        e.parent_start_time_ns = wall(body.parent_start_time_ns);
        e.parent_start_time_raw_ns = body.parent_start_time_ns;
      }
      if (!p.text(body.image, "image", e.image) || !p.text(body.command_line, "command_line", e.command_line)) {
        return error(p.failure().kind, std::move(p.failure().message));
      }
      if (has_token) {
        if (auto failure = decode_token(body, p, e); !failure.empty()) {
          return error(p.failure().kind != DecodeErrorKind::none ? p.failure().kind : DecodeErrorKind::bad_value,
                       std::move(failure));
        }
      }
      return &e;
    }
    case PS_REC_EXEC_FAILED: {
      ps_exec_failed body{};
      if (!read_body(record, body)) return too_short("exec_failed", sizeof(body));
      RecordParser p(record, "exec_failed", sizeof(body), e);
      e.kind = EventKind::exec_failed;
      fill_task(body.task);
      if (!p.text(body.filename, "filename", e.filename))
        return error(p.failure().kind, std::move(p.failure().message));
      if (body.error <= 0)
        return error(DecodeErrorKind::bad_value, fmt::format("exec_failed record: errno {}", body.error));
      e.error = body.error;
      return &e;
    }
    case PS_REC_FORK: {
      ps_fork body{};
      if (!read_body(record, body)) return too_short("fork", sizeof(body));
      e.kind = EventKind::fork;
      fill_task(body.task);
      e.parent_pid = body.parent_pid;
      e.parent_tid = body.parent_tid;
      e.parent_start_time_ns = wall(body.parent_start_time_ns);
      e.parent_start_time_raw_ns = body.parent_start_time_ns;
      return &e;
    }
    case PS_REC_EXIT: {
      ps_exit body{};
      if (!read_body(record, body)) return too_short("exit", sizeof(body));
      e.kind = EventKind::exit;
      fill_task(body.task);
      e.exit_status = body.exit_status;
      if ((body.exit_flags & ~PS_EXIT_WINDOWS_CODE) != 0) {
        return error(DecodeErrorKind::bad_value, fmt::format("exit record: unknown flags {:#x}", body.exit_flags));
      }
      if ((body.exit_flags & PS_EXIT_WINDOWS_CODE) != 0) {
        e.task.has_uid_and_comm = false;
        e.exit_code = static_cast<int>(body.exit_status);  // a 32-bit exit code or NTSTATUS
      } else if ((body.exit_status & 0x7f) == 0) {
        e.exit_code = static_cast<int>((body.exit_status >> 8) & 0xff);
      } else {
        e.exit_signal = static_cast<int>(body.exit_status & 0x7f);
        e.core_dumped = (body.exit_status & 0x80) != 0;
      }
      e.duration_ns = e.time_ns > e.task.start_time_ns ? e.time_ns - e.task.start_time_ns : 0;
      return &e;
    }
    case PS_REC_LOST: {
      ps_lost body{};
      if (!read_body(record, body)) return too_short("lost", sizeof(body));
      // Running totals are turned into deltas by the source before they reach a decoder.
      if (body.count == 0 || body.cause == 0 || body.cause > PS_LOST_CAUSE_MAX || body.lost_flags != 0) {
        return error(DecodeErrorKind::bad_value, fmt::format("lost record: count {} cause {}", body.count, body.cause));
      }
      e.kind = EventKind::lost;
      e.lost_count = body.count;
      e.lost_cause = body.cause;
      return &e;
    }
    default:
      return error(DecodeErrorKind::bad_type, fmt::format("unsupported record type {}", hdr.type));
  }
}

}  // namespace procsentry
