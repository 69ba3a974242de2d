// Live processes as the event stream describes them, seeded from the OS's process list for
// processes older than procsentry: what each one runs, as whom, under which parent. It gives every event
// its process identity and lineage (parent's uid, image and argv; ancestors up to pid 1).
//
// Memory is bounded by the live processes: an exit removes its process once the event is
// written (a short list of recent exits still answers late lookups), and after the sensor
// lost records (exits may be among them) vanished processes are pruned against the OS.
// Records are recycled, never freed on the event path: an exit's record takes the oldest
// recent exit's place, whose strings (with their capacity) then serve the next fork or exec,
// so a fork/exec/exit storm allocates nothing once warm.
// The table does no I/O itself: it asks a ProcessInspector (the platform layer).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

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
  static constexpr std::size_t kSpareRecords = 64;  // recycled records kept for the next fork or exec

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
  const ProcessRecord* lookup(std::uint32_t pid) const;           // live, then recently exited
  const ProcessRecord* recently_exited(std::uint32_t pid) const;  // the newest such record
  bool duplicate_exit(const Event& event) const;
  using Live = std::unordered_map<std::uint32_t, ProcessRecord>;
  void remember_exit(Live::iterator it);
  // The live record of pid, added if new (from a spare when there is one: its content is
  // stale, the caller sets every field).
  ProcessRecord& slot(std::uint32_t pid);

  ProcessUidScheme scheme_;
  ProcessTableOptions options_;
  Live live_;
  std::vector<ProcessRecord> recent_exits_;  // a ring of at most kRecentExits
  std::size_t recent_next_ = 0;              // where the next exit goes: once full, the oldest
  std::vector<Live::node_type> spare_;       // at most kSpareRecords
};

}  // namespace procsentry
