#include "sinks/formats/table_format.h"

#include <fmt/format.h>

#include "core/names.h"
#include "core/text_escape.h"
#include "core/windows_token.h"

namespace procsentry {
namespace {

constexpr std::string_view kHeader =
    "TIME          EVENT       PID     PPID    USER     IMAGE                                    ARGS";

// Like `docker ps`: the first 12 digits of an id are enough to tell containers apart.
constexpr std::size_t kContainerIdShown = 12;

std::string_view color_of(EventKind kind) {
  switch (kind) {
    case EventKind::exec:
    case EventKind::create:
      return "\x1b[32m";
    case EventKind::exec_failed:
    case EventKind::lost:
      return "\x1b[31m";
    case EventKind::fork:
      return "\x1b[36m";
    case EventKind::exit:
      return "\x1b[33m";
    case EventKind::hash:
    case EventKind::heartbeat:
      return "\x1b[35m";
  }
  return "";
}

// Display width of escaped text: counts UTF-8 lead bytes (escapes are ASCII).
std::size_t columns(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

void pad_to(std::string& out, std::string_view cell, std::size_t width) {
  out += cell;
  for (std::size_t w = columns(cell); w < width; ++w) out += ' ';
  out += ' ';
}

// Keeps the tail of a long path (the file name matters most), marked with a leading ellipsis.
void append_image_cell(std::string& out, std::string_view escaped) {
  std::size_t width = columns(escaped);
  if (width <= TableFormatter::kImageWidth) {
    pad_to(out, escaped, TableFormatter::kImageWidth);
    return;
  }
  std::size_t skip = width - (TableFormatter::kImageWidth - 1);
  std::size_t at = 0;
  for (std::size_t seen = 0; at < escaped.size(); ++at) {
    if ((static_cast<unsigned char>(escaped[at]) & 0xc0) != 0x80 && seen++ == skip) break;
  }
  out += "\xe2\x80\xa6";  // …
  out += escaped.substr(at);
  out += ' ';
}

void append_duration(std::string& out, std::int64_t ns) {
  fmt::format_to(std::back_inserter(out), "{:.3f}s", static_cast<double>(ns) / 1e9);
}

}  // namespace

void TableFormatter::append_line(std::string& out, const Event& e) {
  clock_.append(out, e.time_ns);
  out += "  ";
  std::string_view kind = to_string(e.kind);
  if (color_) out += color_of(e.kind);
  out += kind;
  if (color_) out += "\x1b[0m";
  for (std::size_t w = kind.size(); w < 12; ++w) out += ' ';

  if (e.kind == EventKind::lost) {
    fmt::format_to(std::back_inserter(out), "{} records dropped ({})", e.lost_count, lost_cause_name(e.lost_cause));
    return;
  }
  if (e.kind == EventKind::heartbeat && e.heartbeat != nullptr) return append_heartbeat(out, e);
  fmt::format_to(std::back_inserter(out), "{:<7} {:<7} ", e.task.pid, e.task.ppid);
  cell_.clear();
  if (e.kind == EventKind::create && !(e.user.empty() && e.token.user_sid.empty())) {
    append_terminal_escaped(cell_, e.user.empty() ? e.token.user_sid : e.user);  // Windows: the token's user
  } else if (!e.task.has_uid_and_comm) {
    cell_ += '-';
  } else if (e.user.empty()) {
    fmt::format_to(std::back_inserter(cell_), "{}", e.task.uid);
  } else {
    append_terminal_escaped(cell_, e.user);
  }
  pad_to(out, cell_, 8);

  cell_.clear();
  std::string_view image = image_of(e);
  if (!image.empty()) {
    append_terminal_escaped(cell_, image);
  } else {
    cell_ += '[';
    append_terminal_escaped(cell_, e.task.comm);
    cell_ += ']';
  }
  append_image_cell(out, cell_);

  switch (e.kind) {
    case EventKind::create:
      append_terminal_escaped(out, e.command_line.bytes);
      if (!e.sha256.empty()) fmt::format_to(std::back_inserter(out), " sha256={}", e.sha256);
      break;
    case EventKind::exec:
      for (std::size_t i = 0; i < e.argv.size(); ++i) {
        if (i != 0) out += ' ';
        append_shell_quoted(out, e.argv[i]);
      }
      if (e.argv_unreadable)
        fmt::format_to(std::back_inserter(out), "[argv unreadable: {} bytes]", e.argv_original_length);
      else if (e.argv_truncated)
        fmt::format_to(std::back_inserter(out), " [truncated: {} bytes total]", e.argv_original_length);
      if (e.is_script && !e.script.empty()) {
        out += " (script ";
        append_terminal_escaped(out, e.script);
        out += ')';
      }
      if (!e.container_id.empty()) {
        out += " [container ";
        append_terminal_escaped(out, e.container_id.substr(0, kContainerIdShown));
        out += ']';
      }
      if (!e.sha256.empty()) fmt::format_to(std::back_inserter(out), " sha256={}", e.sha256);
      break;
    case EventKind::hash:
      if (!e.sha256.empty()) {
        fmt::format_to(std::back_inserter(out), "sha256={}", e.sha256);
      } else {
        out += "no hash: ";
        append_terminal_escaped(out, e.sha256_missing);
      }
      break;
    case EventKind::exec_failed:
      if (color_) out += "\x1b[31m";
      fmt::format_to(std::back_inserter(out), "{} ({})", errno_name(e.error), errno_text(e.error));
      if (color_) out += "\x1b[0m";
      break;
    case EventKind::fork:
      fmt::format_to(std::back_inserter(out), "child of {}", e.parent_pid);
      break;
    case EventKind::exit:
      if (e.exit_code) {
        fmt::format_to(std::back_inserter(out), "code={} ", *e.exit_code);
      } else if (e.exit_signal) {
        fmt::format_to(std::back_inserter(out), "signal={}{} ", signal_name(*e.exit_signal),
                       e.core_dumped ? " core" : "");
      }
      append_duration(out, e.duration_ns);
      break;
    case EventKind::lost:
    case EventKind::heartbeat:
      break;
  }
  if (long_form_ || !e.rules.empty()) append_context(out, e);
}

// "seq 120: 80 events written (exec=30 ...), kernel lost 0, dropped 0": the counts so far.
void TableFormatter::append_heartbeat(std::string& out, const Event& e) {
  const HeartbeatCounts& h = *e.heartbeat;
  std::uint64_t written = 0, lost = 0, dropped = 0;
  for (std::uint64_t n : h.emitted) written += n;
  for (std::uint64_t n : h.kernel_lost) lost += n;
  for (const auto& output : h.dropped) dropped += output.dropped;
  fmt::format_to(std::back_inserter(out), "seq {}: {} events written (", e.seq, written);
  bool first = true;
  for (std::size_t kind = 1; kind < h.emitted.size(); ++kind) {
    if (h.emitted[kind] == 0) continue;
    fmt::format_to(std::back_inserter(out), "{}{}={}", first ? "" : " ", to_string(static_cast<EventKind>(kind)),
                   h.emitted[kind]);
    first = false;
  }
  fmt::format_to(std::back_inserter(out), "), kernel lost {}, dropped by outputs {}", lost, dropped);
}

// " {key=value ...}": every value escaped, so the pairs cannot be forged either.
void TableFormatter::append_context(std::string& out, const Event& e) {
  bool first = true;
  auto pair = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    out += first ? " {" : " ";
    first = false;
    out += key;
    out += '=';
    append_shell_quoted(out, value);
  };
  auto number = [&](std::string_view key, std::uint64_t value) { pair(key, fmt::format_int(value).str()); };
  // The include rules matched (--config) show on every line; the rest with --long.
  for (std::string_view rule : e.rules) pair("rule", rule);
  if (!long_form_) {
    if (!first) out += '}';
    return;
  }
  if (e.seq != 0) number("seq", e.seq);  // host and boot ids are long and the same on every line
  pair("process_uid", e.process_uid.view());
  pair("parent_process_uid", e.parent_uid.view());
  if (e.kind == EventKind::exec) {
    if (e.image_uid) number("image_uid", *e.image_uid);
    if (e.image_mode) pair("image_mode", fmt::format("{:04o}", *e.image_mode & 07777));
    if (e.image_mode && (*e.image_mode & 04000) != 0) pair("image_setuid", "yes");
    if (e.image_mode && (*e.image_mode & 02000) != 0) pair("image_setgid", "yes");
    if (e.image_memfd) pair("image_memfd", "yes");
    if (e.image_deleted) pair("image_deleted", "yes");
    if (e.image_upper_layer) pair("image_upper_layer", "yes");
    if (e.image.truncated) pair("image_truncated", "yes");
    if (e.exec_fd) pair("exec_fd", "yes");
    if (e.argv_unreadable) pair("argv_unreadable", "yes");
    pair("cwd", e.cwd.bytes);
    pair("group", e.group);
    if (e.loginuid) number("loginuid", *e.loginuid);
    if (e.audit_session) number("session", *e.audit_session);
    pair("tty", e.tty);
    if (e.pid_ns != 0) number("pid_ns", e.pid_ns);
    pair("cgroup", e.cgroup);
    pair("container", e.container_id);
    pair("parent", e.parent_image.bytes);
    for (const auto& a : e.ancestry) pair("ancestor", a.image.empty() ? a.uid.view() : a.image);
    pair("sha256", e.sha256_missing);
  }
  if (e.kind == EventKind::create) {
    number("session", e.session_id);
    if (e.subsystem_process) pair("subsystem_process", "yes");
    pair("user_sid", e.token.user_sid);
    if (e.token.integrity_rid) {
      const std::string_view name = integrity_level_name(*e.token.integrity_rid);
      pair("integrity", name.empty() ? fmt::format("{:#x}", *e.token.integrity_rid) : std::string(name));
    }
    if (e.token.elevated) {
      pair("elevated", *e.token.elevated ? "yes" : "no");
      pair("elevation", elevation_type_name(e.token.elevation_type));
    }
    if (e.token.logon_id) {
      pair("logon_id", logon_id_text(*e.token.logon_id));
      pair("token", token_type_name(e.token.token_type));
    }
    pair("parent", e.parent_image.bytes);
    pair("parent_command_line", e.parent_argv_raw.bytes);
    pair("sha256", e.sha256_missing);
  }
  if (e.seeded) pair("seeded", "yes");
  if (!first) out += '}';
}

void TableFormatter::append(std::string& out, const Event& event) {
  if (!header_written_) {
    out += kHeader;
    out += '\n';
    header_written_ = true;
  }
  append_line(out, event);
  out += '\n';
}

}  // namespace procsentry
