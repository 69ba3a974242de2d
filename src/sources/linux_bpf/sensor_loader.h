// Loads and attaches the BPF programs in a short-lived child process, which hands back the
// descriptors that keep them running and exits.
//
// Why a child: loading parses the kernel's BTF, and libbpf 1.1 holds two copies of
// /sys/kernel/btf/vmlinux at once (~12 MiB on 6.x kernels, freed after). In the child that
// peak ends with it; the monitor, which runs for months, never grows to it. The child is
// forked, not exec'd: it keeps the capabilities (a service runs with SecureBits=noroot, so
// an exec'd helper would get none) and needs no second binary.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "sources/sensor_options.h"

namespace procsentry {

// A descriptor closed when its owner goes.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd();
  int get() const { return fd_; }
  int release();

 private:
  int fd_ = -1;
};

struct LoadedSensor {
  OwnedFd ring;  // the events ring buffer map
  std::uint64_t ring_bytes = 0;
  OwnedFd counters;                  // the programs' .bss array map (drop totals)
  std::uint64_t counters_bytes = 0;  // its value size
  std::uint64_t lost_total_offset = 0;
  std::vector<OwnedFd> links;  // the attachments: closing the last one detaches
  bool exec_failed_attached = false;
  bool bounded_loops = false;
};

// Call before any thread starts (the child is a fork). Errors are the loader's own line.
Result<LoadedSensor> load_sensor(const SensorOptions& options);

}  // namespace procsentry
