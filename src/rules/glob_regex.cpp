#include "rules/glob_regex.h"

namespace procsentry {
namespace {

void append_literal(std::string& out, char c) {
  // Every byte escaped as \xHH: no character of the pattern is ever a regex operator.
  constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

// "[...]" starting at glob[i] (the '['): appended as a regex class; returns the index of its
// ']' (GlobPattern::compile refused unclosed brackets already).
std::size_t append_bracket(std::string& out, std::string_view glob, std::size_t i) {
  std::size_t j = i + 1;
  out += '[';
  if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) {
    out += '^';
    ++j;
  }
  bool first = true;
  for (; j < glob.size(); ++j) {
    const char c = glob[j];
    if (c == ']' && !first) break;
    first = false;
    if (c == '[' && j + 1 < glob.size() && glob[j + 1] == ':') {  // [:alpha:] and the like
      const std::size_t end = glob.find(":]", j + 2);
      if (end != std::string_view::npos) {
        out.append(glob.substr(j, end + 2 - j));
        j = end + 1;
        continue;
      }
    }
    if (c == '-' && j + 1 < glob.size() && glob[j + 1] != ']' && out.back() != '[' && out.back() != '^') {
      out += '-';  // a range between the literals around it
      continue;
    }
    if (c == '\\' && j + 1 < glob.size()) {
      append_literal(out, glob[++j]);
      continue;
    }
    append_literal(out, c);
  }
  out += ']';
  return j;
}

}  // namespace

std::string glob_to_regex(std::string_view glob) {
  std::string out;
  out.reserve(glob.size() * 4);
  for (std::size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    switch (c) {
      case '*':
        out += "(?s:.*)";
        break;
      case '?':
        out += "(?s:.)";
        break;
      case '[':
        i = append_bracket(out, glob, i);
        break;
      case '\\':
        if (i + 1 < glob.size()) {
          append_literal(out, glob[++i]);
        } else {
          append_literal(out, c);  // a trailing backslash stands for itself
        }
        break;
      default:
        append_literal(out, c);
    }
  }
  return out;
}

}  // namespace procsentry
