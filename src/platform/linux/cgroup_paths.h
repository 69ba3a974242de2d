// cgroup v2 ids to paths, by scanning the cgroup2 hierarchy (an id is a directory's inode).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/cgroups.h"

namespace procsentry {

class CgroupPaths final : public CgroupResolver {
 public:
  // mount: where cgroup2 is mounted; empty disables the lookups.
  explicit CgroupPaths(std::string mount);
  // The cgroup2 mount point from a mountinfo file, empty if cgroup2 is not mounted.
  static std::string find_mount(const std::string& mountinfo = "/proc/self/mountinfo");

  // An unknown id rescans the hierarchy, at most once per kRescanInterval.
  std::string_view path(std::uint64_t id) override;

  static constexpr std::chrono::milliseconds kRescanInterval{100};
  static constexpr std::size_t kMaxEntries = 65536;

 private:
  void rescan();
  std::string mount_;
  std::unordered_map<std::uint64_t, std::string> paths_;
  std::chrono::steady_clock::time_point last_scan_{};
  bool scanned_ = false;
};

}  // namespace procsentry
