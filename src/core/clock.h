// Converts kernel timestamps to wall-clock time.
#pragma once

#include <cstdint>

namespace procsentry {

struct ClockMapping {
  std::int64_t boot_to_epoch_ns = 0;  // add to a CLOCK_BOOTTIME value to get ns since the Unix epoch

  // Measures CLOCK_REALTIME - CLOCK_BOOTTIME, keeping the tightest of a few samples.
  static ClockMapping from_system();
  // Wall clock now, for events procsentry makes itself.
  static std::int64_t now_epoch_ns();
};

}  // namespace procsentry
