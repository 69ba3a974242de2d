// Live processes as the event stream describes them, seeded from the OS's process list for
// processes older than procsentry: what each one runs, as whom, under which parent. It gives every event
// its process identity and lineage (parent's uid, image and argv; ancestors up to pid 1).
//
// Memory is bounded by the live processes: an exit removes its process once the event is
// written (a short list of recent exits still answers late lookups), and after the sensor
// lost records (exits may be among them) vanished processes are pruned against the OS.
// The table does no I/O itself: it asks a ProcessInspector (the platform layer).
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>

#include "core/event.h"
#include "process_inspector.h"
#include "process_uid.h"

namespace procsentry {

struct ProcessTableOptions {
  ProcessInspector* os = nullptr;  // nullptr: never asks the OS (replay, Windows)
  bool ancestry = false;           // fill Event::ancestry on exec events
};

class ProcessTable {
 public:
  static constexpr std::size_t kArgvKept = ProcessRecord::kArgvKept;
  static constexpr std::size_t kRecentExits = 256;
  static constexpr std::size_t kMaxAncestry = 64;

  ProcessTable(ProcessUidScheme scheme, ProcessTableOptions options);

  // Learns every process the OS has (pid, parent, start, image, argv, uid, cgroup).
  void seed_from_os();

  // Before the sinks: identity, lineage and known image. Returns false for a duplicate exit
  // of the same process (possible on kernels without group_dead), which the caller drops.
  bool enrich(Event& event);
  // After the sinks: learns from the event and forgets exited processes.
  void apply(const Event& event);
  // Drops processes the OS no longer has (after lost records); returns how many.
  std::size_t prune_vanished();

  const ProcessRecord* find(std::uint32_t pid) const;
  // The parent as it is now: a process whose parent exited was reparented by the kernel
  // (to init or a subreaper), which the table asks the OS when it needs to.
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

}  // namespace procsentry
