// cgroup v2 ids (what the sensor reads) to paths, and the container a path names.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace procsentry {

class CgroupPaths {
 public:
  // mount: where cgroup2 is mounted; empty disables the lookups.
  explicit CgroupPaths(std::string mount);
  // The cgroup2 mount point from a mountinfo file, empty if cgroup2 is not mounted.
  static std::string find_mount(const std::string& mountinfo = "/proc/self/mountinfo");

  // "/system.slice/x.service" for an id (the directory's inode number), empty if unknown.
  // An unknown id rescans the hierarchy, at most once per kRescanInterval.
  std::string_view path(std::uint64_t id);

  static constexpr std::chrono::milliseconds kRescanInterval{100};
  static constexpr std::size_t kMaxEntries = 65536;

 private:
  void rescan();
  std::string mount_;
  std::unordered_map<std::uint64_t, std::string> paths_;
  std::chrono::steady_clock::time_point last_scan_{};
  bool scanned_ = false;
};

// The container a cgroup path names, or empty: a 64-hex-digit id in the innermost component
// that has one (docker, containerd, CRI-O, podman, kubepods), else a systemd machine scope's
// name (machine.slice/machine-NAME.scope, systemd-nspawn and libvirt).
std::string_view container_id_from_cgroup(std::string_view path);

}  // namespace procsentry
