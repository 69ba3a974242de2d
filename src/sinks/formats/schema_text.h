// What the schema formats (ECS, OCSF) derive from the native fields: a command line joined
// from argv, a NUL-separated list split, a file's name from its path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace procsentry::schema_text {

// The items of a NUL-separated list, as the native JSON writes it (a trailing NUL ends the
// last item).
inline void split_nul_list(std::vector<std::string_view>& out, std::string_view list) {
  out.clear();
  while (!list.empty()) {
    const std::size_t nul = list.find('\0');
    out.push_back(list.substr(0, nul));
    list.remove_prefix(nul == std::string_view::npos ? list.size() : nul + 1);
  }
}

// `first`, then items[1..], separated by spaces (what ps shows; not quoted for a shell).
inline void join(std::string& out, std::string_view first, const std::vector<std::string_view>& items) {
  out.assign(first);
  for (std::size_t i = 1; i < items.size(); ++i) {
    out += ' ';
    out += items[i];
  }
}

// The last path component (the whole path when it has no slash; Windows paths too).
inline std::string_view file_name(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// st_mode's permission bits as four octal digits ("0755"), as the native image_mode.
inline std::string_view mode_digits(std::uint32_t mode, char (&digits)[4]) {
  mode &= 07777;
  for (int i = 3; i >= 0; --i, mode >>= 3) digits[i] = static_cast<char>('0' + (mode & 7));
  return std::string_view(digits, 4);
}

}  // namespace procsentry::schema_text
