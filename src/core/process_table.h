// Live processes as the event stream describes them, seeded from /proc for processes older
// than procsentry: what each one runs, as whom, under which parent. It gives every event
// its process identity and lineage (parent's uid, image and argv; ancestors up to pid 1).
//
// Memory is bounded by the live processes: an exit removes its process once the event is
// written (a short list of recent exits still answers late lookups), and after the sensor
// lost records (exits may be among them) vanished processes are pruned against /proc.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/event.h"
#include "core/process_uid.h"

namespace procsentry {

struct ProcessRecord {
  std::uint32_t pid = 0;
  std::uint32_t ppid = 0;
  std::uint32_t uid = 0;
  std::uint64_t start_ticks = 0;
  ProcessUid process_uid;
  std::string comm;
  std::string image;
  std::string argv;  // NUL-separated, at most kArgvKept bytes
  bool argv_truncated = false;
  std::uint64_t cgroup_id = 0;
  std::string cgroup;   // seeded processes: from /proc/PID/cgroup (the sensor gives cgroup_id)
  bool seeded = false;  // known from /proc, not from an event
};

struct ProcessTableOptions {
  std::string proc_root;  // empty: never read /proc (replay, Windows)
  bool ancestry = false;  // fill Event::ancestry on exec events
};

class ProcessTable {
 public:
  static constexpr std::size_t kArgvKept = 4096;
  static constexpr std::size_t kRecentExits = 256;
  static constexpr std::size_t kMaxAncestry = 64;

  ProcessTable(ProcessUidScheme scheme, ProcessTableOptions options);

  // Reads every process in proc_root (pid, parent, start, image, argv, uid, cgroup).
  void seed_from_proc();

  // Before the sinks: identity, lineage and known image. Returns false for a duplicate exit
  // of the same process (possible on kernels without group_dead), which the caller drops.
  bool enrich(Event& event);
  // After the sinks: learns from the event and forgets exited processes.
  void apply(const Event& event);
  // Drops processes that are gone from /proc (after lost records); returns how many.
  std::size_t prune_vanished();

  const ProcessRecord* find(std::uint32_t pid) const;
  // The parent as it is now: a process whose parent exited was reparented by the kernel
  // (to init or a subreaper), which the table learns from /proc when it needs to.
  const ProcessRecord* parent_of(const ProcessRecord& child);
  const std::unordered_map<std::uint32_t, ProcessRecord>& processes() const { return live_; }
  std::size_t size() const { return live_.size(); }
  const ProcessUidScheme& uid_scheme() const { return scheme_; }
  // A capture header names the boot its records come from: another boot's processes are
  // forgotten (their pids mean nothing there), and uids are made with its scheme.
  void use_uid_scheme(const ProcessUidScheme& scheme);

 private:
  const ProcessRecord* lookup(std::uint32_t pid) const;  // live, then recently exited
  bool duplicate_exit(const Event& event) const;
  void remember_exit(ProcessRecord record);

  ProcessUidScheme scheme_;
  ProcessTableOptions options_;
  std::unordered_map<std::uint32_t, ProcessRecord> live_;
  std::deque<ProcessRecord> recent_exits_;  // newest last, at most kRecentExits
};

// One process from /proc/PID (nullopt if it vanished or is unreadable).
std::optional<ProcessRecord> read_proc_process(std::string_view proc_root, std::uint32_t pid,
                                               const ProcessUidScheme& scheme);

}  // namespace procsentry
