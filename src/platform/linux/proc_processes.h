// The processes of this machine from /proc (or a /proc lookalike, for the tests).
#pragma once

#include <string>

#include "core/process_inspector.h"

namespace procsentry {

class ProcProcesses final : public ProcessInspector {
 public:
  explicit ProcProcesses(std::string root = "/proc") : root_(std::move(root)) {}
  std::vector<std::uint32_t> pids() override;
  // stat, exe, cmdline, status (Uid) and cgroup (v2 line) of /proc/PID.
  std::optional<ProcessRecord> read(std::uint32_t pid, const ProcessUidScheme& scheme) override;
  std::optional<Start> start_of(std::uint32_t pid) override;

 private:
  std::string dir(std::uint32_t pid) const { return root_ + "/" + std::to_string(pid); }
  std::string root_;
};

}  // namespace procsentry
