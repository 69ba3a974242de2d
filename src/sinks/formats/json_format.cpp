#include "sinks/formats/json_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/names.h"
#include "core/text_escape.h"

namespace procsentry {
namespace {

class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  void end() { out_ += '}'; }

  // About 25 keys per event: each built on the stack and appended in one call (a resize
  // would also zero the bytes first).
  std::string& key(std::string_view name) {
    char text[64];
    if (name.size() > sizeof(text) - 4) return long_key(name);
    char* p = text;
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = '"';
    *p++ = ':';
    return out_.append(text, static_cast<std::size_t>(p - text));
  }
  template <typename Int>
  void number(std::string_view name, Int value) {
    fmt::format_int digits(value);
    key(name).append(digits.data(), digits.size());
  }
  void boolean(std::string_view name, bool value) { key(name) += value ? "true" : "false"; }
  void string(std::string_view name, std::string_view value) { append_json_string(key(name), value); }

  // A captured text field: omitted when absent; a lossless companion when not valid UTF-8.
  void text(std::string_view name, const Text& text) {
    if (!text.present) return;
    string(name, text.bytes);
    if (!is_valid_utf8(text.bytes)) {
      append_base64(key_with_suffix(name, "_b64") += '"', text.bytes);
      out_ += '"';
    }
    if (text.truncated) {
      boolean_with_suffix(name, "_truncated");
      if (text.original_length != 0) {
        fmt::format_int digits(text.original_length);
        key_with_suffix(name, "_original_length").append(digits.data(), digits.size());
      }
    }
  }

 private:
  std::string& long_key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;
    return out_ += "\":";
  }
  std::string& key_with_suffix(std::string_view name, std::string_view suffix) {
    if (!first_) out_ += ',';
    out_ += '"';
    out_ += name;
    out_ += suffix;
    out_ += "\":";
    return out_;
  }
  void boolean_with_suffix(std::string_view name, std::string_view suffix) { key_with_suffix(name, suffix) += "true"; }

  std::string& out_;
  bool first_ = true;
};

// A NUL-separated list as a JSON array (with a lossless _b64 companion when not UTF-8).
void write_nul_list(ObjectWriter& o, std::string_view name, const Text& list) {
  if (!list.present) return;
  std::string& a = o.key(name);
  append_json_nul_list(a, list.bytes);
  if (!is_valid_utf8(list.bytes)) {
    append_base64(o.key(std::string(name) + "_b64") += '"', list.bytes);
    a += '"';
  }
  if (list.truncated) o.boolean(std::string(name) + "_truncated", true);
}

void write_exec_context(ObjectWriter& o, const Event& e) {
  if (!e.group.empty()) o.string("group", e.group);
  if (e.loginuid) o.number("loginuid", *e.loginuid);
  if (e.audit_session) o.number("session_id", *e.audit_session);
  if (!e.tty.empty()) o.text("tty", Text{e.tty, true, false, static_cast<std::uint32_t>(e.tty.size())});
  if (e.pid_ns != 0) o.number("pid_ns", e.pid_ns);
  if (e.cgroup_id != 0) o.number("cgroup_id", e.cgroup_id);
  if (!e.cgroup.empty()) o.text("cgroup", Text{e.cgroup, true, false, static_cast<std::uint32_t>(e.cgroup.size())});
  if (!e.container_id.empty()) o.string("container_id", e.container_id);
  o.text("parent_image", e.parent_image);
  write_nul_list(o, "parent_argv", e.parent_argv_raw);
  if (!e.ancestry.empty()) {
    std::string& a = o.key("ancestry");
    a += '[';
    for (std::size_t i = 0; i < e.ancestry.size(); ++i) {
      if (i != 0) a += ',';
      ObjectWriter item(a);
      item.number("pid", e.ancestry[i].pid);
      item.string("process_uid", e.ancestry[i].uid.view());
      const std::string_view image = e.ancestry[i].image;  // empty: unknown (kernel thread)
      item.text("image", Text{image, !image.empty(), false, static_cast<std::uint32_t>(image.size())});
      item.end();
    }
    a += ']';
  }
  if (!e.sha256.empty()) o.string("sha256", e.sha256);
  if (!e.sha256_missing.empty()) o.string("sha256_missing", e.sha256_missing);
}

}  // namespace

void JsonFormatter::append_object(std::string& out, const Event& e) {
  ObjectWriter o(out);
  o.string("event", to_string(e.kind));
  time_.append(o.key("time") += '"', e.time_ns);
  out += '"';
  if (e.kind == EventKind::lost) {
    o.number("count", e.lost_count);
    o.string("cause", lost_cause_name(e.lost_cause));
    o.end();
    return;
  }
  o.number("pid", e.task.pid);
  if (!e.process_uid.empty()) o.string("process_uid", e.process_uid.view());
  if (e.kind == EventKind::hash) {
    o.text("image", e.image);
    if (!e.sha256.empty()) o.string("sha256", e.sha256);
    if (!e.sha256_missing.empty()) o.string("sha256_missing", e.sha256_missing);
    o.end();
    return;
  }
  if (!e.parent_uid.empty()) o.string("parent_uid", e.parent_uid.view());
  if (e.seeded) o.boolean("seeded", true);
  if (e.parent_seeded) o.boolean("parent_seeded", true);
  if (e.task.has_uid_and_comm) {
    o.number("tid", e.task.tid);
    o.number("ppid", e.task.ppid);
    o.number("uid", e.task.uid);
    o.number("gid", e.task.gid);
    o.number("euid", e.task.euid);
    if (!e.user.empty()) o.string("user", e.user);
    o.text("comm", Text{e.task.comm, true, false, static_cast<std::uint32_t>(e.task.comm.size())});
  } else {
    // Windows: the creating thread and parent are known at creation only.
    if (e.task.tid != 0) o.number("tid", e.task.tid);
    if (e.task.ppid != 0) o.number("ppid", e.task.ppid);
  }
  switch (e.kind) {
    case EventKind::create:
      o.text("image", e.image);
      o.text("command_line", e.command_line);
      o.number("creator_pid", e.creator_pid);
      o.number("session_id", e.session_id);
      o.text("parent_image", e.parent_image);
      o.text("parent_command_line", e.parent_argv_raw);
      break;
    case EventKind::exec: {
      o.text("image", e.image);
      if (e.image_memfd) o.boolean("image_memfd", true);
      if (e.image_deleted) o.boolean("image_deleted", true);
      if (e.image_uid) o.number("image_uid", *e.image_uid);
      if (e.image_mode) o.string("image_mode", fmt::format("{:04o}", *e.image_mode & 07777));
      if (e.image_mode && (*e.image_mode & 04000) != 0) o.boolean("image_setuid", true);
      if (e.image_mode && (*e.image_mode & 02000) != 0) o.boolean("image_setgid", true);
      if (e.image_upper_layer) o.boolean("image_upper_layer", true);
      if (e.exec_fd) o.boolean("exec_fd", true);
      o.text("filename", e.filename);
      if (e.is_script && !e.script.empty()) {  // derived from cwd and filename: bytes, as they are
        o.text("script", Text{e.script, true, false, static_cast<std::uint32_t>(e.script.size())});
      }
      o.text("cwd", e.cwd);
      if (e.argv_raw.present) {
        std::string& a = o.key("argv");
        a += '[';
        for (std::size_t i = 0; i < e.argv.size(); ++i) {
          if (i != 0) a += ',';
          append_json_string(a, e.argv[i]);
        }
        a += ']';
        if (!is_valid_utf8(e.argv_raw.bytes)) {
          append_base64(o.key("argv_b64") += '"', e.argv_raw.bytes);
          out += '"';
        }
        o.number("argc", e.argv.size());
        o.boolean("argv_truncated", e.argv_truncated);
        if (e.argv_truncated && e.argv_original_length != 0) o.number("argv_original_length", e.argv_original_length);
        if (e.argv_unreadable) o.boolean("argv_unreadable", true);
      }
      write_exec_context(o, e);
      break;
    }
    case EventKind::exec_failed:
      o.text("filename", e.filename);
      o.number("errno", e.error);
      if (auto name = errno_name(e.error); !name.empty()) o.string("error", name);
      break;
    case EventKind::fork:
      o.text("image", e.known_image);
      time_.append(o.key("start_time") += '"', e.task.start_time_ns);
      out += '"';
      o.number("parent_pid", e.parent_pid);
      o.number("parent_tid", e.parent_tid);
      time_.append(o.key("parent_start_time") += '"', e.parent_start_time_ns);
      out += '"';
      break;
    case EventKind::exit:
      o.text("image", e.known_image);
      if (e.exit_code) o.number("exit_code", *e.exit_code);
      if (e.exit_signal) o.number("signal", *e.exit_signal);
      if (e.core_dumped) o.boolean("core_dumped", true);
      o.number("duration_ns", e.duration_ns);
      break;
    case EventKind::lost:
    case EventKind::hash:
      break;
  }
  o.end();
}

}  // namespace procsentry
