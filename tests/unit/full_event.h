// An event of each kind with every field the pipeline can give it, every text hostile (not
// UTF-8, cut by a limit that knew the whole length): what the format tests write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"

namespace procsentry {

inline constexpr std::int64_t kTime = 1'795'521'841'123'456'789;

// Text that is not UTF-8, cut by a limit that knew the whole length: every companion key.
inline Text hostile(std::string_view bytes) { return Text{bytes, true, true, 9000}; }

// Every field the pipeline can set on an event of `kind` (decode, the process table, the
// user names, cgroups, --ancestry, --hash), with the shape it has there.
struct FullEvent {
  std::string bad = "/x/\xff";  // not UTF-8
  std::string argv = std::string("a\0\xff\0", 4);
  ProcessUidScheme scheme{"b44953de", 10'000'000};
  HeartbeatCounts counts{60, {}, {0, 2}, {{"file /var/log/procsentry.jsonl", 3}}};
  Event event;

  explicit FullEvent(EventKind kind) {
    Event& e = event;
    e.kind = kind;
    e.time_ns = kTime;
    e.seq = 12;  // every event the pipeline writes is numbered
    e.host_id = "4c4c4544004d3510804cb2c04f4a4d33";
    e.boot_id = "b44953de-1bdc-4a3f-8f2b-3b4e9f0c7a11";
    if (kind == EventKind::heartbeat) {
      e.heartbeat = &counts;
      return;
    }
    if (kind == EventKind::lost) {
      e.lost_count = 3;
      e.lost_cause = 1;
      return;
    }
    e.task = Task{42, 43, 41, 1000, 1000, 0, kTime, 1, "\xff"};
    e.process_uid = scheme.make(42, 7);
    if (kind == EventKind::hash) {
      e.task.has_uid_and_comm = false;  // a hash event says nothing of the task (pipeline)
      e.image = hostile(bad);
      e.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
      e.sha256_missing = "pending";
      return;
    }
    e.user = "alice";
    e.parent_uid = scheme.make(41, 6);
    e.rules = {"from-tmp", "execs-and-exits"};
    switch (kind) {
      case EventKind::create:
        e.task.has_uid_and_comm = false;  // Windows
        e.image = hostile(bad);
        e.command_line = hostile(bad);
        e.creator_pid = 40;
        e.session_id = 1;
        e.subsystem_process = true;
        e.user = "CONTOSO\\J\xc3\xb6rg";  // the pipeline's name of the token's SID
        e.token.user_sid = "S-1-5-21-3623811015-3361044348-30300820-1013";
        e.token.integrity_rid = 0x3000;
        e.token.elevated = true;
        e.token.elevation_type = 2;
        e.token.logon_id = 0x3e7;
        e.token.token_type = 1;
        e.parent_image = hostile(bad);
        e.parent_argv_raw = hostile(bad);
        e.parent_seeded = true;
        e.argv_redacted = true;
        e.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        e.sha256_missing = "pending";
        break;
      case EventKind::exec:
        e.image = hostile(bad);
        e.image_memfd = e.image_deleted = e.image_upper_layer = e.exec_fd = true;
        e.image_uid = 0;
        e.image_mode = 0100000 | 06755;
        e.filename = hostile(bad);
        e.is_script = true;
        e.script = bad;
        e.cwd = hostile(bad);
        e.argv_raw = Text{argv, true, true, 9000};
        e.argv = {std::string_view(argv).substr(0, 1), std::string_view(argv).substr(2, 1)};
        e.argv_truncated = e.argv_unreadable = true;
        e.argv_original_length = 9000;
        e.argv_redacted = true;
        e.group = "staff";
        e.loginuid = 1000;
        e.audit_session = 2;
        e.tty = bad;
        e.pid_ns = 4026531836u;
        e.cgroup_id = 77;
        e.cgroup = bad;
        e.container_id = "0123456789abcdef";
        e.parent_image = hostile(bad);
        e.parent_argv_raw = Text{argv, true, true, 4};
        e.parent_seeded = true;
        e.ancestry.push_back(Event::Ancestor{41, scheme.make(41, 6), "/bin/sh"});
        e.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        e.sha256_missing = "pending";
        break;
      case EventKind::exec_failed:
        e.filename = hostile(bad);
        e.error = 2;
        break;
      case EventKind::fork:
        e.known_image = hostile(bad);
        e.parent_pid = 41;
        e.parent_tid = 41;
        e.parent_seeded = true;
        break;
      case EventKind::exit:
        e.known_image = hostile(bad);
        e.exit_code = 0;
        e.exit_signal = 9;
        e.core_dumped = true;
        e.duration_ns = 5;
        e.seeded = true;
        break;
      case EventKind::lost:
      case EventKind::hash:
      case EventKind::heartbeat:
        break;
    }
  }
};

}  // namespace procsentry
