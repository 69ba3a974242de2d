// What a client can ask of a live sensor, and what the sensor counts it dropped. Neutral:
// options and the summary use them on every platform (only Linux reads SensorOptions today).
#pragma once

#include <array>
#include <cstdint>

namespace procsentry {

struct SensorOptions {
  std::uint32_t argv_cap = 32768;  // bytes of argv captured per exec (rounded up to a power of two)
  // BPF ring buffer size (power of two). The kernel maps it twice into our address space
  // (for records that wrap), all resident: 4 MiB costs 8 MiB of RSS; records are sized to their data.
  std::uint32_t ring_bytes = 4u << 20;
  bool exec_failed = true;  // attach the syscall-exit hook that reports failed execs
  bool verbose = false;     // echo libbpf's messages
};

struct SensorDrops {
  std::array<std::uint64_t, 4> by_cause{};  // index: ps_lost_cause
  std::uint64_t total() const { return by_cause[1] + by_cause[2] + by_cause[3]; }
};

}  // namespace procsentry
