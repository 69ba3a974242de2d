#include "core/quantities.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <string_view>

namespace procsentry {
namespace {

Result<std::int64_t> parse_number_with_suffix(const std::string& text, std::int64_t& value, std::string_view& suffix) {
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc() || end == text.data() || value < 0) return Error{"not a number"};
  suffix = std::string_view(end, static_cast<std::size_t>(text.data() + text.size() - end));
  return value;
}

}  // namespace

Result<std::int64_t> parse_duration(const std::string& text) {
  std::int64_t value = 0;
  std::string_view suffix;
  if (!parse_number_with_suffix(text, value, suffix)) {
    return Error{fmt::format("'{}' is not a duration (e.g. 90s, 15m, 3h, 7d)", text)};
  }
  std::int64_t unit = suffix == "s" ? 1 : suffix == "m" ? 60 : suffix == "h" ? 3600 : suffix == "d" ? 86400 : 0;
  if (unit == 0 || value > (INT64_MAX / 1'000'000'000) / unit) {
    return Error{fmt::format("'{}' is not a duration (e.g. 90s, 15m, 3h, 7d)", text)};
  }
  return value * unit * 1'000'000'000;
}

Result<std::int64_t> parse_size(const std::string& text) {
  std::int64_t value = 0;
  std::string_view suffix;
  if (!parse_number_with_suffix(text, value, suffix))
    return Error{fmt::format("'{}' is not a size (e.g. 500M, 1G)", text)};
  int shift = suffix.empty()  ? 0
              : suffix == "K" ? 10
              : suffix == "M" ? 20
              : suffix == "G" ? 30
              : suffix == "T" ? 40
                              : -1;
  if (shift < 0 || value > (INT64_MAX >> shift)) return Error{fmt::format("'{}' is not a size (e.g. 500M, 1G)", text)};
  return value << shift;
}

}  // namespace procsentry
