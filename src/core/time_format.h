// Wall-clock formatting for sinks. Each formatter caches the calendar conversion (of the last
// dates, or the last second), since consecutive events almost always share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

namespace procsentry {

// "2026-11-24T12:04:01.123456789Z"
class Rfc3339Formatter {
 public:
  void append(std::string& out, std::int64_t epoch_ns);
  // The same through a pointer with room for kBound bytes; returns the end.
  static constexpr std::size_t kBound = 32 + 11;  // hostile times: up to 31 before the fraction
  char* put(char* p, std::int64_t epoch_ns);

 private:
  struct Date {
    std::int64_t days = INT64_MIN;  // since the epoch
    char text[16] = {};             // "YYYY-MM-DD"
    bool plain = false;             // a year in 0..9999 (else gmtime_r, for hostile times only)
  };
  const Date& date_of(std::int64_t days);
  Date dates_[2];
  unsigned next_ = 0;
};

// "12:04:01.123" in local time
class LocalClockFormatter {
 public:
  void append(std::string& out, std::int64_t epoch_ns);

 private:
  std::int64_t cached_second_ = INT64_MIN;
  char prefix_[16] = {};  // "HH:MM:SS"
};

}  // namespace procsentry
