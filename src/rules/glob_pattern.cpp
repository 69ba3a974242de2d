#include "rules/glob_pattern.h"

#include <fmt/core.h>

#include <algorithm>

#include "core/filter.h"

namespace procsentry {
namespace {

bool has_class_or_escape(std::string_view p) { return p.find_first_of("?[\\") != std::string_view::npos; }

// fnmatch takes "[" without its "]" as a literal, which is never what a rule's author meant.
bool brackets_closed(std::string_view p) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
      continue;
    }
    if (p[i] != '[') continue;
    std::size_t j = i + 1;
    if (j < p.size() && (p[j] == '!' || p[j] == '^')) ++j;
    if (j < p.size() && p[j] == ']') ++j;  // "[]...]": the first ']' is a member
    j = p.find(']', j);
    if (j == std::string_view::npos) return false;
    i = j;
  }
  return true;
}

}  // namespace

Result<GlobPattern> GlobPattern::compile(std::string pattern) {
  if (pattern.empty()) return Error{"an empty glob matches nothing (use \"*\" for anything)"};
  if (!brackets_closed(pattern)) return Error{fmt::format("glob \"{}\" has a '[' without its ']'", pattern)};
  GlobPattern glob;
  glob.pattern_ = std::move(pattern);
  std::string_view p = glob.pattern_;
  if (has_class_or_escape(p)) return glob;  // general
  const std::size_t stars = static_cast<std::size_t>(std::count(p.begin(), p.end(), '*'));
  if (stars == 0) {
    glob.shape_ = Shape::exact;
    glob.head_ = p;
  } else if (p.find_first_not_of('*') == std::string_view::npos) {
    glob.shape_ = Shape::any;
  } else if (stars == 1 && p.back() == '*') {
    glob.shape_ = Shape::prefix;
    glob.head_ = p.substr(0, p.size() - 1);
  } else if (stars == 1 && p.front() == '*') {
    glob.shape_ = Shape::suffix;
    glob.tail_ = p.substr(1);
  } else if (stars == 2 && p.front() == '*' && p.back() == '*') {
    glob.shape_ = Shape::middle;
    glob.head_ = p.substr(1, p.size() - 2);
  } else if (stars == 1) {
    glob.shape_ = Shape::prefix_suffix;
    const std::size_t star = p.find('*');
    glob.head_ = p.substr(0, star);
    glob.tail_ = p.substr(star + 1);
  }
  return glob;
}

bool GlobPattern::matches(std::string_view text, std::string& scratch) const {
  switch (shape_) {
    case Shape::exact:
      return text == head_;
    case Shape::prefix:
      return text.starts_with(head_);
    case Shape::suffix:
      return text.ends_with(tail_);
    case Shape::middle:
      return text.find(head_) != std::string_view::npos;
    case Shape::prefix_suffix:
      return text.size() >= head_.size() + tail_.size() && text.starts_with(head_) && text.ends_with(tail_);
    case Shape::any:
      return true;
    case Shape::general:
      break;
  }
  // fnmatch needs a terminated string, and a NUL inside the text would end it early: such a
  // text cannot match a pattern that has no NUL.
  if (text.find('\0') != std::string_view::npos) return false;
  scratch.assign(text);
  return glob_matches(pattern_, scratch);
}

}  // namespace procsentry
