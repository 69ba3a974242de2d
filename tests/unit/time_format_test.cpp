// RFC 3339 formatting against libc's gmtime_r over dates that break naive calendars.
#include "core/time_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

namespace procsentry {
namespace {

std::string reference(std::int64_t second, std::int64_t fraction) {
  std::time_t t = static_cast<std::time_t>(second);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(fraction));
  return buf;
}

TEST(Rfc3339, MatchesGmtimeEverywhere) {
  Rfc3339Formatter f;
  // ns since the epoch in an int64 span 1677..2262.
  std::vector<std::int64_t> seconds{0,
                                    -1,
                                    951782400 /* 2000-02-29 */,
                                    4107542399 /* 2100-02-28 23:59:59 */,
                                    1795046400,
                                    9'000'000'000,
                                    -9'000'000'000};
  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::int64_t> span(-9'000'000'000, 9'000'000'000);
  for (int i = 0; i < 100000; ++i) seconds.push_back(span(random));
  for (std::int64_t s : seconds) {
    std::string out;
    f.append(out, s * 1'000'000'000 + 123456789);
    ASSERT_EQ(out, reference(s, 123456789)) << s;
  }
}

TEST(Rfc3339, BeforeTheEpochKeepsAPositiveFraction) {
  Rfc3339Formatter f;
  std::string out;
  f.append(out, -1);  // one ns before the epoch
  EXPECT_EQ(out, "1969-12-31T23:59:59.999999999Z");
}

}  // namespace
}  // namespace procsentry
