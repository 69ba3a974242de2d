#include "core/clock.h"

#include <chrono>

namespace procsentry {

std::int64_t ClockMapping::now_epoch_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace procsentry
