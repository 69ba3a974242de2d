// Wall-clock formatting for sinks. Each formatter caches the calendar conversion of the last
// second, since consecutive events almost always share it.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace procsentry {

// "2026-11-24T12:04:01.123456789Z"
class Rfc3339Formatter {
 public:
  void append(std::string& out, std::int64_t epoch_ns);

 private:
  std::int64_t cached_second_ = INT64_MIN;
  char prefix_[32] = {};  // "YYYY-MM-DDTHH:MM:SS"
  std::size_t prefix_len_ = 0;
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
