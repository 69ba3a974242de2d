// Which events reach the sinks. All given criteria must match; within one criterion any value
// may. Lost events always pass: a filter must never hide that records were dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/event.h"

namespace procsentry {

struct FilterOptions {
  std::vector<std::uint32_t> pids;
  std::vector<std::uint32_t> ppids;
  std::vector<std::uint32_t> uids;
  std::vector<std::string> comms;   // exact
  std::vector<std::string> images;  // fnmatch globs
  std::vector<EventKind> events;
};

class Filter {
 public:
  explicit Filter(FilterOptions options) : options_(std::move(options)) {}
  bool matches(const Event& event) const;

 private:
  FilterOptions options_;
};

// The platform's own glob (Linux fnmatch, Windows PathMatchSpec), as its users expect it;
// defined per platform (src/platform/<os>/os_text.cpp).
bool glob_matches(const std::string& glob, const std::string& path);

}  // namespace procsentry
