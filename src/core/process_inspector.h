// What the OS says about its processes, for the table. The platform layer reads the OS
// (ProcProcesses in src/platform/linux reads procfs); the core only asks through this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "process_uid.h"

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
  std::string cgroup;   // seeded processes: the OS's cgroup path (the sensor gives cgroup_id)
  bool seeded = false;  // known from the OS's process list, not from an event

  static constexpr std::size_t kArgvKept = 4096;
};

class ProcessInspector {
 public:
  virtual ~ProcessInspector() = default;
  // Every process alive now.
  virtual std::vector<std::uint32_t> pids() = 0;
  // One process in full, `seeded` set (nullopt if it vanished or is unreadable).
  virtual std::optional<ProcessRecord> read(std::uint32_t pid, const ProcessUidScheme& scheme) = 0;
  // Only its parent now and its start: cheap, for reparenting and pruning.
  struct Start {
    std::uint32_t ppid = 0;
    std::uint64_t start_ticks = 0;
  };
  virtual std::optional<Start> start_of(std::uint32_t pid) = 0;
};

}  // namespace procsentry
