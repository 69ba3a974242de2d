// A glob compiled once: the common shapes (exact, prefix*, *suffix, *middle*, prefix*suffix)
// are compared directly, any other goes to the platform's own glob (fnmatch), through a
// caller-owned scratch string so that matching never allocates once the scratch has grown.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace procsentry {

class GlobPattern {
 public:
  // An error for what fnmatch would silently take literally (an unclosed '[').
  static Result<GlobPattern> compile(std::string pattern);

  enum class Shape { exact, prefix, suffix, middle, prefix_suffix, any, general };

  bool matches(std::string_view text, std::string& scratch) const;
  const std::string& pattern() const { return pattern_; }
  // The shape and its literal parts: exact and prefix compare head(), suffix tail(), middle
  // finds head(), prefix_suffix compares both (so that a rule set can index them).
  Shape shape() const { return shape_; }
  const std::string& head() const { return head_; }
  const std::string& tail() const { return tail_; }

 private:
  GlobPattern() = default;

  std::string pattern_;
  Shape shape_ = Shape::general;
  std::string head_, tail_;  // the literal parts the shape compares
};

}  // namespace procsentry
