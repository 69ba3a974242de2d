#include "process_uid.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace procsentry {

ProcessUidScheme::ProcessUidScheme(std::string_view boot_id, std::uint64_t tick_ns)
    : tick_ns_(tick_ns == 0 ? 1 : tick_ns) {
  std::size_t n = 0;
  for (char c : boot_id) {
    if (n == 8) break;
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) boot_[n++] = static_cast<char>(std::tolower(c));
  }
  while (n < 8) boot_[n++] = '0';
}

// Three per event on the live path: to_chars, not a format string (fmt parses it each call).
// 8 + 1 + 10 + 1 + 20 characters always fit.
ProcessUid ProcessUidScheme::make(std::uint32_t pid, std::uint64_t start_ticks) const {
  static_assert(sizeof(ProcessUid::text_) >= 8 + 1 + 10 + 1 + 20);
  ProcessUid uid;
  char* const end = uid.text_ + sizeof(uid.text_);
  char* p = std::copy_n(boot_, 8, uid.text_);
  *p++ = '-';
  p = std::to_chars(p, end, pid).ptr;
  *p++ = '-';
  p = std::to_chars(p, end, start_ticks).ptr;
  uid.length_ = static_cast<std::uint8_t>(p - uid.text_);
  return uid;
}

}  // namespace procsentry
