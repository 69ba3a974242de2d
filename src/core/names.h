// Symbolic names for the numbers events carry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace procsentry {

// The C library knows these names: defined per platform (src/platform/<os>/os_text.cpp).
std::string_view errno_name(int error);  // "ENOENT", or "" if unknown
std::string_view errno_text(int error);  // "No such file or directory"
std::string signal_name(int signal);     // "SIGKILL", or "SIG<n>"

std::string_view lost_cause_name(std::uint32_t cause);  // "ringbuf_full", ...

}  // namespace procsentry
