#include "sinks/formats/ocsf_format.h"

#include "core/names.h"
#include "core/windows_token.h"
#include "sinks/formats/json_writer.h"
#include "sinks/formats/schema_text.h"

namespace procsentry {
namespace {

using json::ObjectWriter;

constexpr int kProcessActivity = 1007;  // category 1 (System Activity) * 1000 + class 7
enum Activity { kOther = 99, kLaunch = 1, kTerminate = 2 };

// OCSF times are epoch milliseconds.
std::int64_t ms(std::int64_t ns) { return ns / 1'000'000; }

// OCSF user and owner uids are strings.
template <std::size_t N>
void uid(ObjectWriter& o, json::Name<N> name, std::uint32_t value) {
  fmt::format_int digits(value);
  o.plain(name, std::string_view(digits.data(), digits.size()));
}

Text text_of(std::string_view bytes) {
  return Text{bytes, !bytes.empty(), false, static_cast<std::uint32_t>(bytes.size())};
}

// A file object: name and type_id are required (type: 1 regular file when the mode says so).
void write_file(ObjectWriter& o, std::string_view path, const Event* exec, std::string_view sha256) {
  ObjectWriter file = o.object("file");
  file.text_value("name", schema_text::file_name(path));
  file.text_value("path", path);
  const bool regular = exec != nullptr && exec->image_mode && (*exec->image_mode & 0170000) == 0100000;
  file.number("type_id", regular ? 1 : 0);
  file.plain("type", regular ? "Regular File" : "Unknown");
  if (exec != nullptr && exec->image_uid) {
    ObjectWriter owner = file.object("owner");
    uid(owner, "uid", *exec->image_uid);
    owner.end();
  }
  if (!sha256.empty()) {
    file.begin_array("hashes");
    ObjectWriter hash = file.object_item();
    hash.number("algorithm_id", 3);
    hash.plain("algorithm", "SHA-256");
    hash.plain("value", sha256);
    hash.end();
    file.end_array();
  }
  file.end();
}

// OCSF's integrity_id for a mandatory label's RID (99: Other, named in `integrity`).
int integrity_id(std::uint32_t rid) {
  switch (rid) {
    case 0x0000:
      return 1;
    case 0x1000:
      return 2;
    case 0x2000:
    case 0x2100:  // medium plus: OCSF has no level between medium and high
      return 3;
    case 0x3000:
      return 4;
    case 0x4000:
      return 5;
    case 0x5000:
      return 6;
    default:
      return 99;
  }
}

constexpr std::string_view kIntegrityCaptions[] = {"Unknown", "Untrusted", "Low",      "Medium",
                                                   "High",    "System",    "Protected"};

// Windows: the new process's token. user: the SID and DOMAIN\name; the logon session;
// the integrity level (its caption, or our name for Other).
void write_windows_token(ObjectWriter& p, const Event& e) {
  if (!e.token.user_sid.empty()) {
    ObjectWriter user = p.object("user");
    user.plain("uid", e.token.user_sid);
    const std::size_t slash = e.user.find('\\');
    if (!e.user.empty()) user.text_value("name", slash == std::string_view::npos ? e.user : e.user.substr(slash + 1));
    if (slash != std::string_view::npos && slash != 0) user.text_value("domain", e.user.substr(0, slash));
    user.end();
  }
  if (e.token.integrity_rid) {
    const int id = integrity_id(*e.token.integrity_rid);
    p.number("integrity_id", id);
    char hex[12];
    p.plain("integrity", id == 99 ? json::integrity_level_text(*e.token.integrity_rid, hex)
                                  : kIntegrityCaptions[static_cast<std::size_t>(id)]);
  }
  if (e.token.logon_id) {
    ObjectWriter session = p.object("session");
    session.plain("uid", logon_id_text(*e.token.logon_id));
    session.end();
  }
}

struct Classified {
  int class_uid = kProcessActivity;
  int activity = kLaunch;
  std::string_view activity_name = "Launch";
  int launch_type = 0;  // 0: none
  std::string_view launch_type_name;
};

Classified classify(EventKind kind) {
  switch (kind) {
    case EventKind::exec:
      return {kProcessActivity, kLaunch, "Launch", 3, "Exec"};
    case EventKind::exec_failed:
      return {kProcessActivity, kLaunch, "Launch", 3, "Exec"};
    case EventKind::fork:
      return {kProcessActivity, kLaunch, "Launch", 2, "Fork"};
    case EventKind::create:
      return {kProcessActivity, kLaunch, "Launch", 1, "Spawn"};
    case EventKind::exit:
      return {kProcessActivity, kTerminate, "Terminate", 0, {}};
    case EventKind::hash:
      return {kProcessActivity, kOther, "Other", 0, {}};
    case EventKind::lost:
    case EventKind::heartbeat:
      break;
  }
  return {0, kOther, "Other", 0, {}};  // Base Event: kernel-side drops are no process's activity
}

}  // namespace

void OcsfFormatter::append_object(std::string& out, const Event& e) {
  json::Cursor cursor(scratch_, scratch_capacity_);
  ObjectWriter o(cursor);
  const Classified c = classify(e.kind);
  const bool process_activity = c.class_uid == kProcessActivity;
  o.number("class_uid", c.class_uid);
  o.plain("class_name", process_activity ? "Process Activity" : "Base Event");
  o.number("category_uid", c.class_uid / 1000);
  o.plain("category_name", process_activity ? "System Activity" : "Uncategorized");
  o.number("activity_id", c.activity);
  o.plain("activity_name", c.activity_name);
  o.number("type_uid", c.class_uid * 100 + c.activity);
  o.number("severity_id", e.kind == EventKind::lost ? 3 : 1);  // losing events needs action
  o.plain("severity", e.kind == EventKind::lost ? "Medium" : "Informational");
  o.number("time", ms(e.time_ns));
  if (e.kind == EventKind::exec_failed) {
    o.number("status_id", 2);
    o.plain("status", "Failure");
    const std::string_view name = errno_name(e.error);
    if (!name.empty()) o.string("status_code", name);
    const std::string_view text = errno_text(e.error);
    if (!text.empty()) o.string("status_detail", text);
  }
  if (c.launch_type != 0) {
    o.number("launch_type_id", c.launch_type);
    o.plain("launch_type", c.launch_type_name);
  }
  if (e.kind == EventKind::exit && e.exit_code) o.number("exit_code", *e.exit_code);
  {
    ObjectWriter metadata = o.object("metadata");
    ObjectWriter product = metadata.object("product");
    product.plain("name", "procsentry");
    product.plain("vendor_name", "procsentry");
    product.plain("version", PROCSENTRY_VERSION);
    product.end();
    metadata.plain("version", kOcsfVersion);
    if (e.seq != 0) metadata.number("sequence", e.seq);
    const bool container = !e.container_id.empty();
    metadata.strings("profiles", container ? 2 : 1,
                     [](std::size_t i) { return i == 0 ? std::string_view("host") : std::string_view("container"); });
    metadata.end();
    ObjectWriter device = o.object("device");
    device.number("type_id", 0);
    device.plain("type", "Unknown");
    if (!source_.host_name.empty()) device.text_value("hostname", source_.host_name);
    if (!e.host_id.empty()) device.string("uid", e.host_id);
    if (!e.boot_id.empty()) device.string("boot_uid", e.boot_id);
    const bool windows = from_windows(source_, e);
    ObjectWriter os = device.object("os");
    os.plain("name", windows ? "Windows" : "Linux");
    os.number("type_id", windows ? 100 : 200);
    os.plain("type", windows ? "Windows" : "Linux");
    os.end();
    device.end();
  }
  if (e.kind == EventKind::lost || e.kind == EventKind::heartbeat) {
    ObjectWriter unmapped = o.object("unmapped");
    unmapped.plain("event", to_string(e.kind));
    if (!e.boot_id.empty()) unmapped.string("boot_id", e.boot_id);  // where verify looks (device.boot_uid too)
    if (e.kind == EventKind::lost) {
      unmapped.number("count", e.lost_count);
      unmapped.string("cause", lost_cause_name(e.lost_cause));
    } else if (e.heartbeat != nullptr) {
      json::write_heartbeat(unmapped, *e.heartbeat);
    }
    unmapped.end();
    o.end();
    cursor.append_to(out);
    return;
  }
  const bool exec = e.kind == EventKind::exec;
  const bool fork = e.kind == EventKind::fork;
  const bool launch = c.activity == kLaunch;
  const bool has_task = e.task.has_uid_and_comm && e.kind != EventKind::hash;
  const Text& image = fork || e.kind == EventKind::exit ? e.known_image : e.image;

  // The parent (launches) or the process itself (exit, hash: it acts on itself).
  auto write_parent = [&](ObjectWriter& parent) {
    parent.number("pid", fork ? e.parent_pid : e.task.ppid);
    if (!e.parent_uid.empty()) parent.string("uid", e.parent_uid.view());
    if (fork) {
      parent.number("tid", e.parent_tid);
      parent.number("created_time", ms(e.parent_start_time_ns));
    }
    if (e.parent_image.present) write_file(parent, e.parent_image.bytes, nullptr, {});
    if (e.parent_argv_raw.present) {
      if (exec) {
        schema_text::split_nul_list(parent_args_, e.parent_argv_raw.bytes);
        schema_text::join(command_line_, parent_args_.empty() ? std::string_view() : parent_args_[0], parent_args_);
        parent.text_value("cmd_line", command_line_);
      } else {
        parent.text_value("cmd_line", e.parent_argv_raw.bytes);
      }
    }
  };
  {
    ObjectWriter actor = o.object("actor");
    ObjectWriter proc = actor.object("process");
    if (launch) {
      write_parent(proc);
    } else {
      proc.number("pid", e.task.pid);
      if (!e.process_uid.empty()) proc.string("uid", e.process_uid.view());
    }
    proc.end();
    if (has_task) {
      ObjectWriter user = actor.object("user");
      uid(user, "uid", e.task.uid);
      if (!e.user.empty()) user.text_value("name", e.user);
      user.end();
    }
    actor.end();
  }
  {
    ObjectWriter p = o.object("process");
    p.number("pid", e.task.pid);
    if (!e.process_uid.empty()) p.string("uid", e.process_uid.view());
    if (e.kind != EventKind::hash && (e.task.has_uid_and_comm || e.task.tid != 0)) p.number("tid", e.task.tid);
    if (has_task) p.text_value("name", e.task.comm);
    if (image.present) write_file(p, image.bytes, exec ? &e : nullptr, e.sha256);
    if (exec && e.argv_raw.present && !e.argv.empty()) {
      schema_text::join(command_line_, e.argv[0], e.argv);
      p.text_value("cmd_line", command_line_);
    }
    if (e.kind == EventKind::create && e.command_line.present) p.text_value("cmd_line", e.command_line.bytes);
    if (e.kind != EventKind::hash && e.task.start_time_ns != 0) p.number("created_time", ms(e.task.start_time_ns));
    if (e.kind == EventKind::exit) p.number("terminated_time", ms(e.time_ns));
    if (exec && e.cwd.present) p.text_value("working_directory", e.cwd.bytes);
    if (has_task) {
      ObjectWriter user = p.object("user");
      uid(user, "uid", e.task.uid);
      if (!e.user.empty()) user.text_value("name", e.user);
      user.end();
    }
    if (e.kind == EventKind::create) write_windows_token(p, e);
    if (e.kind != EventKind::hash) {
      ObjectWriter parent = p.object("parent_process");
      write_parent(parent);
      parent.end();
    }
    if (!e.ancestry.empty()) {
      p.begin_array("ancestry");
      for (const Event::Ancestor& a : e.ancestry) {
        ObjectWriter item = p.object_item();
        item.number("pid", a.pid);
        item.string("uid", a.uid.view());
        if (!a.image.empty()) item.text_value("path", a.image);
        item.end();
      }
      p.end_array();
    }
    if (!e.container_id.empty()) {
      ObjectWriter container = p.object("container");
      container.string("uid", e.container_id);
      container.end();
    }
    p.end();
  }

  // What OCSF has no attribute for, under its native name (README, "Standard schemas").
  ObjectWriter ours = o.object("unmapped");
  ours.plain("event", to_string(e.kind));
  if (!e.boot_id.empty()) ours.string("boot_id", e.boot_id);  // where verify looks (device.boot_uid too)
  if (e.seeded) ours.boolean("seeded", true);
  if (e.parent_seeded) ours.boolean("parent_seeded", true);
  ours.companions_of("image", image);
  if (has_task) {
    ours.companions_of("comm", text_of(e.task.comm));
    ours.number("gid", e.task.gid);
    ours.number("euid", e.task.euid);
    if (!e.group.empty()) ours.string("group", e.group);
  }
  if (fork) ours.number("ppid", e.task.ppid);
  switch (e.kind) {
    case EventKind::create:
      ours.companions_of("command_line", e.command_line);
      ours.number("creator_pid", e.creator_pid);
      ours.number("session_id", e.session_id);
      if (e.subsystem_process) ours.boolean("subsystem_process", true);
      if (e.token.elevated) {  // OCSF has no elevation; the rest of the token is under process
        ours.boolean("elevated", *e.token.elevated);
        if (const auto type = elevation_type_name(e.token.elevation_type); !type.empty()) {
          ours.plain("elevation_type", type);
        }
      }
      if (e.token.logon_id) {
        if (const auto type = token_type_name(e.token.token_type); !type.empty()) ours.plain("token_type", type);
      }
      ours.companions_of("parent_image", e.parent_image);
      ours.companions_of("parent_command_line", e.parent_argv_raw);
      if (e.argv_redacted) ours.boolean("argv_redacted", true);
      break;
    case EventKind::exec: {
      if (e.image_memfd) ours.boolean("image_memfd", true);
      if (e.image_deleted) ours.boolean("image_deleted", true);
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
        ours.string_list("argv", e.argv, e.argv_raw.bytes);  // the list itself: cmd_line is one string
        ours.number("argc", e.argv.size());
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
      if (e.parent_argv_raw.present) ours.nul_list("parent_argv", e.parent_argv_raw);
      // process.ancestry's paths lose bytes that are not UTF-8: the list again, losslessly.
      if (std::any_of(e.ancestry.begin(), e.ancestry.end(),
                      [](const Event::Ancestor& a) { return !is_valid_utf8(a.image); })) {
        ours.objects("ancestry", e.ancestry.size(), [&](ObjectWriter& item, std::size_t i) {
          item.number("pid", e.ancestry[i].pid);
          item.text("image", text_of(e.ancestry[i].image));
        });
      }
      break;
    }
    case EventKind::exec_failed:
      ours.text("filename", e.filename);
      ours.number("errno", e.error);
      break;
    case EventKind::exit:
      if (e.exit_signal) ours.number("signal", *e.exit_signal);
      if (e.core_dumped) ours.boolean("core_dumped", true);
      ours.number("duration_ns", e.duration_ns);
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
