// cgroup v2 ids (what the sensor reads) to paths, and the container a path names.
#pragma once

#include <cstdint>
#include <string_view>

namespace procsentry {

// Where a cgroup id's path comes from: the platform layer looks it up in the OS
// (src/platform/linux/cgroup_paths.h).
class CgroupResolver {
 public:
  virtual ~CgroupResolver() = default;
  // "/system.slice/x.service" for an id, empty if unknown; valid for the current event.
  virtual std::string_view path(std::uint64_t id) = 0;
};

// The container a cgroup path names, or empty: a 64-hex-digit id in the innermost component
// that has one (docker, containerd, CRI-O, podman, kubepods), else a systemd machine scope's
// name (machine.slice/machine-NAME.scope, systemd-nspawn and libvirt).
std::string_view container_id_from_cgroup(std::string_view path);

}  // namespace procsentry
