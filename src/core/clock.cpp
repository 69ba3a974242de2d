#include "core/clock.h"

#include <chrono>

#include <time.h>

namespace procsentry {
#ifndef _WIN32
namespace {
std::int64_t read_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace
#endif

ClockMapping ClockMapping::from_system() {
#ifdef _WIN32
  return ClockMapping{};  // Windows records are stamped in epoch time already
#else
  ClockMapping best;
  std::int64_t best_window = INT64_MAX;
  for (int i = 0; i < 5; ++i) {
    std::int64_t before = read_ns(CLOCK_BOOTTIME);
    std::int64_t real = read_ns(CLOCK_REALTIME);
    std::int64_t after = read_ns(CLOCK_BOOTTIME);
    if (after - before < best_window) {
      best_window = after - before;
      best.boot_to_epoch_ns = real - (before + (after - before) / 2);
    }
  }
  return best;
#endif
}

std::int64_t ClockMapping::now_epoch_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace procsentry
