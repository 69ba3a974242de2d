#include "core/time_format.h"

#include <cstdio>

namespace procsentry {
namespace {

// Floor division, so times before the epoch still give a fraction in [0, 1e9).
void split(std::int64_t ns, std::int64_t& second, std::int64_t& fraction) {
  second = ns / 1'000'000'000;
  fraction = ns % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    --second;
  }
}

void append_digits(std::string& out, std::int64_t value, int width) {
  char digits[16];
  for (int i = width - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits, static_cast<std::size_t>(width));
}

}  // namespace

void Rfc3339Formatter::append(std::string& out, std::int64_t epoch_ns) {
  std::int64_t second = 0;
  std::int64_t fraction = 0;
  split(epoch_ns, second, fraction);
  if (second != cached_second_) {
    std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    int n = std::snprintf(prefix_, sizeof(prefix_), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    prefix_len_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    cached_second_ = second;
  }
  out.append(prefix_, prefix_len_);
  out += '.';
  append_digits(out, fraction, 9);
  out += 'Z';
}

void LocalClockFormatter::append(std::string& out, std::int64_t epoch_ns) {
  std::int64_t second = 0;
  std::int64_t fraction = 0;
  split(epoch_ns, second, fraction);
  if (second != cached_second_) {
    std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    localtime_r(&t, &tm);
    std::snprintf(prefix_, sizeof(prefix_), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second_ = second;
  }
  out += prefix_;
  out += '.';
  append_digits(out, fraction / 1'000'000, 3);
}

}  // namespace procsentry
