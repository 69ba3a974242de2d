#include "core/time_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

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

// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days):
// pure arithmetic, where gmtime_r takes libc's time-zone lock and snprintf parses a format.
void civil_from_days(std::int64_t days, std::int64_t& year, int& month, int& day) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = yoe + era * 400 + (month <= 2);
}

void append_two(char*& at, std::int64_t value) {
  *at++ = static_cast<char>('0' + value / 10);
  *at++ = static_cast<char>('0' + value % 10);
}

}  // namespace

void Rfc3339Formatter::append(std::string& out, std::int64_t epoch_ns) {
  const std::size_t used = out.size();
  out.resize(used + kBound);
  out.resize(static_cast<std::size_t>(put(out.data() + used, epoch_ns) - out.data()));
}

char* Rfc3339Formatter::put(char* p, std::int64_t epoch_ns) {
  std::int64_t second = 0;
  std::int64_t fraction = 0;
  split(epoch_ns, second, fraction);
  std::int64_t days = second / 86400;
  std::int64_t in_day = second % 86400;
  if (in_day < 0) {
    in_day += 86400;
    --days;
  }
  const Date& date = date_of(days);
  if (!date.plain) {  // only a hostile timestamp gets here
    std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    int n = std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    const auto len = static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof(text)) - 1));
    std::memcpy(p, text, len);
    p += len;
  } else {
    std::memcpy(p, date.text, sizeof(date.text));  // "YYYY-MM-DD", a fixed-size move
    p += 10;
    *p++ = 'T';
    append_two(p, in_day / 3600);
    *p++ = ':';
    append_two(p, in_day / 60 % 60);
    *p++ = ':';
    append_two(p, in_day % 60);
  }
  *p++ = '.';
  auto f = static_cast<std::uint32_t>(fraction);  // [0, 1e9)
  for (int i = 9; i >= 1; --i) {
    p[i - 1] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  p += 9;
  *p++ = 'Z';
  return p;
}

// Two dates cached: an event's own day and its parent's start day (a fork carries both)
// would otherwise evict each other.
const Rfc3339Formatter::Date& Rfc3339Formatter::date_of(std::int64_t days) {
  for (const Date& d : dates_) {
    if (d.days == days) return d;
  }
  Date& d = dates_[next_];
  next_ = next_ == 0 ? 1 : 0;
  d.days = days;
  std::int64_t year = 0;
  int month = 0;
  int day = 0;
  civil_from_days(days, year, month, day);
  d.plain = year >= 0 && year <= 9999;
  if (d.plain) {
    char* at = d.text;
    append_two(at, year / 100);
    append_two(at, year % 100);
    *at++ = '-';
    append_two(at, month);
    *at++ = '-';
    append_two(at, day);
  }
  return d;
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
