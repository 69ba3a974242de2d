#include "sinks/formats/json_format.h"

#include <cstring>

#include "core/names.h"
#include "core/windows_token.h"
#include "sinks/formats/json_writer.h"

namespace procsentry {
namespace {

using json::Cursor;
using json::ObjectWriter;
using json::put;

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
  o.nul_list("parent_argv", e.parent_argv_raw);
  if (!e.ancestry.empty()) {
    o.objects("ancestry", e.ancestry.size(), [&](ObjectWriter& item, std::size_t i) {
      item.number("pid", e.ancestry[i].pid);
      item.plain("process_uid", e.ancestry[i].uid.view());
      const std::string_view image = e.ancestry[i].image;  // empty: unknown (kernel thread)
      item.text("image", Text{image, !image.empty(), false, static_cast<std::uint32_t>(image.size())});
    });
  }
  if (!e.sha256.empty()) o.string("sha256", e.sha256);
  if (!e.sha256_missing.empty()) o.string("sha256_missing", e.sha256_missing);
}

// st_mode's permission bits as four octal digits ("0755").
std::string_view mode_digits(std::uint32_t mode, char (&digits)[4]) {
  mode &= 07777;
  for (int i = 3; i >= 0; --i, mode >>= 3) digits[i] = static_cast<char>('0' + (mode & 7));
  return std::string_view(digits, 4);
}

// The configuration's include rules the event matched (none: no key).
void write_rules(ObjectWriter& o, const Event& e) {
  if (!e.rules.empty()) o.string_list("rules", e.rules, {});
}

}  // namespace

namespace json {

// The counts so far: a heartbeat is rare (--heartbeat SECONDS), so building the lists here costs nothing.
void write_heartbeat(ObjectWriter& o, const HeartbeatCounts& h) {
  o.number("interval_s", h.interval_s);
  std::vector<std::pair<std::string_view, std::uint64_t>> items;
  for (std::size_t kind = 1; kind < h.emitted.size(); ++kind) {
    items.emplace_back(to_string(static_cast<EventKind>(kind)), h.emitted[kind]);
  }
  o.counts("emitted", items);
  items.clear();
  for (std::uint32_t cause = 1; cause < h.kernel_lost.size(); ++cause) {
    items.emplace_back(lost_cause_name(cause), h.kernel_lost[cause]);
  }
  if (h.kernel_lost[0] != 0) items.emplace_back(lost_cause_name(0), h.kernel_lost[0]);
  o.counts("kernel_lost", items);
  items.clear();
  for (const auto& output : h.dropped) items.emplace_back(output.name, output.dropped);
  o.counts("dropped", items);
}

std::string_view integrity_level_text(std::uint32_t rid, char (&hex)[12]) {
  const std::string_view name = integrity_level_name(rid);
  if (!name.empty()) return name;
  auto end = fmt::format_to_n(hex, sizeof(hex), "{:#x}", rid);
  return std::string_view(hex, end.out);
}

void write_token(ObjectWriter& o, const WindowsToken& token, std::string_view user) {
  if (!token.user_sid.empty()) o.plain("user_sid", token.user_sid);
  if (!user.empty()) o.string("user", user);
  char hex[12];
  if (token.integrity_rid) o.plain("integrity_level", integrity_level_text(*token.integrity_rid, hex));
  if (token.elevated) {
    o.boolean("elevated", *token.elevated);
    if (const auto type = elevation_type_name(token.elevation_type); !type.empty()) o.plain("elevation_type", type);
  }
  if (token.logon_id) {
    char digits[20];
    auto end = fmt::format_to_n(digits, sizeof(digits), "{:#x}", *token.logon_id);
    o.plain("logon_id", std::string_view(digits, end.out));
    if (const auto type = token_type_name(token.token_type); !type.empty()) o.plain("token_type", type);
  }
}

}  // namespace json

// The ids' members as `o.string` writes them (none for an empty id).
const std::string& JsonFormatter::id_members(const Event& e) {
  if (ids_.ready && e.host_id == ids_.host && e.boot_id == ids_.boot) return ids_.json;
  ids_.ready = true;
  ids_.host.assign(e.host_id);
  ids_.boot.assign(e.boot_id);
  ids_.json.clear();
  auto add = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    const std::size_t at = ids_.json.size();
    ids_.json.resize(at + key.size() + json_string_bound(value.size()));
    char* p = put(ids_.json.data() + at, key);
    bool valid = true;
    ids_.json.resize(static_cast<std::size_t>(put_json_string(p, value, valid) - ids_.json.data()));
  };
  add(",\"host_id\":", e.host_id);
  add(",\"boot_id\":", e.boot_id);
  return ids_.json;
}

namespace {

void write_object(Cursor& out, Rfc3339Formatter& time, const std::string& id_members, const Event& e) {
  ObjectWriter o(out);
  o.plain("event", to_string(e.kind));
  o.time("time", time, e.time_ns);
  if (e.seq != 0) o.number("seq", e.seq);
  o.members(id_members);
  if (e.kind == EventKind::lost) {
    o.number("count", e.lost_count);
    o.string("cause", lost_cause_name(e.lost_cause));
    o.end();
    return;
  }
  if (e.kind == EventKind::heartbeat) {
    if (e.heartbeat != nullptr) json::write_heartbeat(o, *e.heartbeat);
    o.end();
    return;
  }
  o.number("pid", e.task.pid);
  if (!e.process_uid.empty()) o.plain("process_uid", e.process_uid.view());
  if (e.kind == EventKind::hash) {
    o.text("image", e.image);
    if (!e.sha256.empty()) o.string("sha256", e.sha256);
    if (!e.sha256_missing.empty()) o.string("sha256_missing", e.sha256_missing);
    o.end();
    return;
  }
  if (!e.parent_uid.empty()) o.plain("parent_uid", e.parent_uid.view());
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
      if (e.subsystem_process) o.boolean("subsystem_process", true);
      json::write_token(o, e.token, e.user);
      o.text("parent_image", e.parent_image);
      o.text("parent_command_line", e.parent_argv_raw);
      if (e.argv_redacted) o.boolean("argv_redacted", true);
      if (!e.sha256.empty()) o.string("sha256", e.sha256);
      if (!e.sha256_missing.empty()) o.string("sha256_missing", e.sha256_missing);
      break;
    case EventKind::exec: {
      o.text("image", e.image);
      if (e.image_memfd) o.boolean("image_memfd", true);
      if (e.image_deleted) o.boolean("image_deleted", true);
      if (e.image_uid) o.number("image_uid", *e.image_uid);
      char mode[4];
      if (e.image_mode) o.plain("image_mode", mode_digits(*e.image_mode, mode));
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
        o.string_list("argv", e.argv, e.argv_raw.bytes);
        o.number("argc", e.argv.size());
        o.boolean("argv_truncated", e.argv_truncated);
        if (e.argv_truncated && e.argv_original_length != 0) o.number("argv_original_length", e.argv_original_length);
        if (e.argv_unreadable) o.boolean("argv_unreadable", true);
      }
      if (e.argv_redacted) o.boolean("argv_redacted", true);
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
      o.time("start_time", time, e.task.start_time_ns);
      o.number("parent_pid", e.parent_pid);
      o.number("parent_tid", e.parent_tid);
      o.time("parent_start_time", time, e.parent_start_time_ns);
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
    case EventKind::heartbeat:
      break;
  }
  write_rules(o, e);
  o.end();
}

}  // namespace

void JsonFormatter::append(std::string& out, const Event& event) {
  Cursor cursor(scratch_, scratch_capacity_);
  write_object(cursor, time_, id_members(event), event);
  char* p = cursor.room(1);
  *p++ = '\n';
  cursor.commit(p);
  cursor.append_to(out);
}

void JsonFormatter::append_object(std::string& out, const Event& event) {
  Cursor cursor(scratch_, scratch_capacity_);
  write_object(cursor, time_, id_members(event), event);
  cursor.append_to(out);
}

}  // namespace procsentry
