// Converts kernel timestamps to wall-clock time.
#pragma once

#include <cstdint>

namespace procsentry {

struct ClockMapping {
  std::int64_t boot_to_epoch_ns = 0;  // add to a boot-clock value to get ns since the Unix epoch

  // Wall clock now, for events procsentry makes itself.
  static std::int64_t now_epoch_ns();
};

}  // namespace procsentry
