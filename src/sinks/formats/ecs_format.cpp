#include "sinks/formats/ecs_format.h"

#include "core/names.h"
#include "core/windows_token.h"
#include "sinks/formats/json_writer.h"
#include "sinks/formats/schema_text.h"

namespace procsentry {
namespace {

using json::ObjectWriter;

// ECS ids (user, group, file owner) are keywords: strings of digits.
template <std::size_t N>
void id(ObjectWriter& o, json::Name<N> name, std::uint32_t value) {
  fmt::format_int digits(value);
  o.plain(name, std::string_view(digits.data(), digits.size()));
}

template <std::size_t N>
void one_string(ObjectWriter& o, json::Name<N> name, std::string_view value) {
  o.strings(name, 1, [&](std::size_t) { return value; });
}

Text text_of(std::string_view bytes) {
  return Text{bytes, !bytes.empty(), false, static_cast<std::uint32_t>(bytes.size())};
}

// The image the event is about (fork, exit: the one the table knows).
const Text& executable_of(const Event& e) {
  return e.kind == EventKind::fork || e.kind == EventKind::exit ? e.known_image : e.image;
}

void write_event_set(ObjectWriter& o, const Event& e) {
  ObjectWriter ev = o.object("event");
  ev.plain("kind", "event");
  std::string_view type = "start";
  if (e.kind == EventKind::exit) type = "end";
  const bool about_us = e.kind == EventKind::lost || e.kind == EventKind::heartbeat;
  if (e.kind == EventKind::hash || about_us) type = "info";
  one_string(ev, "category", about_us ? "host" : "process");
  one_string(ev, "type", type);
  ev.plain("action", to_string(e.kind));
  if (e.seq != 0) ev.number("sequence", e.seq);
  if (e.kind == EventKind::exec_failed) ev.plain("outcome", "failure");
  if (e.kind == EventKind::exit) ev.number("duration", e.duration_ns);
  ev.end();
}

// The caller's identity: ECS's process.user is the effective user, real_user the real one.
void write_identity(ObjectWriter& p, const Event& e) {
  ObjectWriter user = p.object("user");
  id(user, "id", e.task.euid);
  if (e.task.euid == e.task.uid && !e.user.empty()) user.text_value("name", e.user);
  user.end();
  ObjectWriter real = p.object("real_user");
  id(real, "id", e.task.uid);
  if (!e.user.empty()) real.text_value("name", e.user);
  real.end();
  ObjectWriter group = p.object("group");
  id(group, "id", e.task.gid);
  if (!e.group.empty()) group.text_value("name", e.group);
  group.end();
}

// Windows: the token's user, as ECS's Windows examples give it (id: the SID; name and domain
// from DOMAIN\name).
void write_windows_user(ObjectWriter& o, const Event& e) {
  ObjectWriter user = o.object("user");
  user.plain("id", e.token.user_sid);
  const std::size_t slash = e.user.find('\\');
  if (!e.user.empty()) user.text_value("name", slash == std::string_view::npos ? e.user : e.user.substr(slash + 1));
  if (slash != std::string_view::npos && slash != 0) user.text_value("domain", e.user.substr(0, slash));
  user.end();
}

}  // namespace

void EcsFormatter::append_object(std::string& out, const Event& e) {
  json::Cursor cursor(scratch_, scratch_capacity_);
  ObjectWriter o(cursor);
  o.time("@timestamp", time_, e.time_ns);
  write_event_set(o, e);
  {
    ObjectWriter ecs = o.object("ecs");
    ecs.plain("version", kEcsVersion);
    ecs.end();
    ObjectWriter agent = o.object("agent");
    agent.plain("type", "procsentry");
    agent.plain("version", PROCSENTRY_VERSION);
    agent.end();
    ObjectWriter host = o.object("host");
    if (!source_.host_name.empty()) host.text_value("name", source_.host_name);
    if (!e.host_id.empty()) host.string("id", e.host_id);
    if (!e.boot_id.empty()) {
      ObjectWriter boot = host.object("boot");
      boot.string("id", e.boot_id);
      boot.end();
    }
    ObjectWriter os = host.object("os");
    os.plain("type", from_windows(source_, e) ? "windows" : "linux");
    os.end();
    host.end();
  }
  if (e.kind == EventKind::lost || e.kind == EventKind::heartbeat) {
    ObjectWriter ours = o.object("procsentry");
    if (e.kind == EventKind::lost) {
      ours.number("count", e.lost_count);
      ours.string("cause", lost_cause_name(e.lost_cause));
    } else if (e.heartbeat != nullptr) {
      json::write_heartbeat(ours, *e.heartbeat);
    }
    ours.end();
    o.end();
    cursor.append_to(out);
    return;
  }
  const bool exec = e.kind == EventKind::exec;
  const bool fork = e.kind == EventKind::fork;
  const Text& executable = executable_of(e);
  {
    ObjectWriter p = o.object("process");
    p.number("pid", e.task.pid);
    if (!e.process_uid.empty()) p.string("entity_id", e.process_uid.view());
    if (executable.present) p.text_value("executable", executable.bytes);
    if (e.task.has_uid_and_comm && e.kind != EventKind::hash) {
      p.text_value("name", e.task.comm);
      write_identity(p, e);
    }
    if (e.kind == EventKind::create && !e.token.user_sid.empty()) write_windows_user(p, e);
    if (e.kind != EventKind::hash && (e.task.has_uid_and_comm || e.task.tid != 0)) {
      ObjectWriter thread = p.object("thread");
      thread.number("id", e.task.tid);
      thread.end();
    }
    if (exec && e.argv_raw.present) {
      // ECS: args[0] is the executable; the caller's argv[0] is the title ps shows.
      const std::string_view first = e.image.present || e.argv.empty() ? e.image.bytes : e.argv[0];
      if (!e.argv.empty()) p.text_value("title", e.argv[0]);
      if (!e.argv.empty()) {
        p.strings("args", e.argv.size(), [&](std::size_t i) { return i == 0 ? first : e.argv[i]; });
        schema_text::join(command_line_, first, e.argv);
        p.text_value("command_line", command_line_);
      }
      p.number("args_count", e.argv.size());
    }
    if (e.kind == EventKind::create && e.command_line.present) p.text_value("command_line", e.command_line.bytes);
    if (exec && e.cwd.present) p.text_value("working_directory", e.cwd.bytes);
    if (e.kind != EventKind::hash && e.task.start_time_ns != 0) p.time("start", time_, e.task.start_time_ns);
    if (e.kind == EventKind::exit) {
      p.time("end", time_, e.time_ns);
      if (e.exit_code) p.number("exit_code", *e.exit_code);
    }
    if (exec) p.boolean("interactive", !e.tty.empty());
    if (!e.sha256.empty()) {
      ObjectWriter hash = p.object("hash");
      hash.plain("sha256", e.sha256);
      hash.end();
    }
    if (e.kind != EventKind::hash) {
      ObjectWriter parent = p.object("parent");
      const std::uint32_t parent_pid = fork ? e.parent_pid : e.task.ppid;
      if (parent_pid != 0 || e.task.has_uid_and_comm) parent.number("pid", parent_pid);
      if (!e.parent_uid.empty()) parent.string("entity_id", e.parent_uid.view());
      if (e.parent_image.present) parent.text_value("executable", e.parent_image.bytes);
      if (exec && e.parent_argv_raw.present) {
        schema_text::split_nul_list(parent_args_, e.parent_argv_raw.bytes);
        const std::string_view first =
            e.parent_image.present || parent_args_.empty() ? e.parent_image.bytes : parent_args_[0];
        if (!parent_args_.empty()) {
          parent.text_value("title", parent_args_[0]);
          parent.strings("args", parent_args_.size(), [&](std::size_t i) { return i == 0 ? first : parent_args_[i]; });
          schema_text::join(command_line_, first, parent_args_);
          parent.text_value("command_line", command_line_);
        }
        parent.number("args_count", parent_args_.size());
      }
      if (e.kind == EventKind::create && e.parent_argv_raw.present) {
        parent.text_value("command_line", e.parent_argv_raw.bytes);
      }
      if (fork) {
        ObjectWriter thread = parent.object("thread");
        thread.number("id", e.parent_tid);
        thread.end();
        parent.time("start", time_, e.parent_start_time_ns);
      }
      parent.end();
    }
    p.end();
  }
  if (e.task.has_uid_and_comm && e.kind != EventKind::hash) {
    ObjectWriter user = o.object("user");
    id(user, "id", e.task.uid);
    if (!e.user.empty()) user.text_value("name", e.user);
    user.end();
    ObjectWriter group = o.object("group");
    id(group, "id", e.task.gid);
    if (!e.group.empty()) group.text_value("name", e.group);
    group.end();
  }
  if (e.kind == EventKind::create && !e.token.user_sid.empty()) write_windows_user(o, e);
  if (!e.container_id.empty()) {
    ObjectWriter container = o.object("container");
    container.string("id", e.container_id);
    container.end();
  }
  if (e.kind == EventKind::exec_failed) {
    if (e.filename.present) {
      ObjectWriter file = o.object("file");
      file.text_value("path", e.filename.bytes);
      file.end();
    }
    ObjectWriter error = o.object("error");
    const std::string_view name = errno_name(e.error);
    if (!name.empty()) {
      error.string("code", name);
    } else {
      id(error, "code", static_cast<std::uint32_t>(e.error));
    }
    error.end();
  }

  // What ECS has no field for, under its native name (README, "Standard schemas").
  ObjectWriter ours = o.object("procsentry");
  if (e.seeded) ours.boolean("seeded", true);
  if (e.parent_seeded) ours.boolean("parent_seeded", true);
  ours.companions_of("image", executable);
  if (e.task.has_uid_and_comm && e.kind != EventKind::hash) ours.companions_of("comm", text_of(e.task.comm));
  if (fork) ours.number("ppid", e.task.ppid);
  switch (e.kind) {
    case EventKind::create:
      ours.companions_of("command_line", e.command_line);
      ours.number("creator_pid", e.creator_pid);
      ours.number("session_id", e.session_id);
      if (e.subsystem_process) ours.boolean("subsystem_process", true);
      json::write_token(ours,
                        WindowsToken{{},
                                     e.token.integrity_rid,
                                     e.token.elevated,
                                     e.token.elevation_type,
                                     e.token.logon_id,
                                     e.token.token_type},
                        {});  // the user is ECS's user.*
      ours.companions_of("parent_image", e.parent_image);
      ours.companions_of("parent_command_line", e.parent_argv_raw);
      if (e.argv_redacted) ours.boolean("argv_redacted", true);
      break;
    case EventKind::exec: {
      if (e.image_memfd) ours.boolean("image_memfd", true);
      if (e.image_deleted) ours.boolean("image_deleted", true);
      if (e.image_uid) ours.number("image_uid", *e.image_uid);
      if (e.image_mode) {
        const std::uint32_t mode = *e.image_mode & 07777;
        char digits[4];
        ours.plain("image_mode", schema_text::mode_digits(mode, digits));
        if ((mode & 04000) != 0) ours.boolean("image_setuid", true);
        if ((mode & 02000) != 0) ours.boolean("image_setgid", true);
      }
      if (e.image_upper_layer) ours.boolean("image_upper_layer", true);
      if (e.exec_fd) ours.boolean("exec_fd", true);
      ours.text("filename", e.filename);
      if (e.is_script && !e.script.empty()) ours.text("script", text_of(e.script));
      ours.companions_of("cwd", e.cwd);
      if (e.argv_raw.present) {
        ours.list_companions_of("argv", Text{e.argv_raw.bytes, true, false, 0});
        ours.boolean("argv_truncated", e.argv_truncated);
        if (e.argv_truncated && e.argv_original_length != 0)
          ours.number("argv_original_length", e.argv_original_length);
        if (e.argv_unreadable) ours.boolean("argv_unreadable", true);
      }
      if (e.argv_redacted) ours.boolean("argv_redacted", true);
      if (e.loginuid) ours.number("loginuid", *e.loginuid);
      if (e.audit_session) ours.number("session_id", *e.audit_session);
      if (!e.tty.empty()) ours.text("tty", text_of(e.tty));
      if (e.pid_ns != 0) ours.number("pid_ns", e.pid_ns);
      if (e.cgroup_id != 0) ours.number("cgroup_id", e.cgroup_id);
      if (!e.cgroup.empty()) ours.text("cgroup", text_of(e.cgroup));
      ours.companions_of("parent_image", e.parent_image);
      ours.list_companions_of("parent_argv", e.parent_argv_raw);
      if (!e.ancestry.empty()) {
        ours.objects("ancestry", e.ancestry.size(), [&](ObjectWriter& item, std::size_t i) {
          item.number("pid", e.ancestry[i].pid);
          item.string("process_uid", e.ancestry[i].uid.view());
          item.text("image", text_of(e.ancestry[i].image));
        });
      }
      break;
    }
    case EventKind::exec_failed:
      ours.companions_of("filename", e.filename);
      ours.number("errno", e.error);
      break;
    case EventKind::exit:
      if (e.exit_signal) ours.number("signal", *e.exit_signal);
      if (e.core_dumped) ours.boolean("core_dumped", true);
      break;
    case EventKind::fork:
    case EventKind::hash:
    case EventKind::lost:
    case EventKind::heartbeat:
      break;
  }
  if (!e.sha256_missing.empty()) ours.string("sha256_missing", e.sha256_missing);
  if (!e.rules.empty()) ours.strings("rules", e.rules.size(), [&](std::size_t i) { return e.rules[i]; });
  ours.end();
  o.end();
  cursor.append_to(out);
}

}  // namespace procsentry
