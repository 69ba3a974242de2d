// What Linux's errno values and signals are called, as glibc names them, without glibc: the
// Windows client shows Linux captures and stores too (an exec_failed's errno, an exit's signal),
// and names them as the Linux client does. No OS call: it builds for both.
#pragma once

#include <string>
#include <string_view>

namespace procsentry {

std::string_view linux_errno_name(int error);  // "ENOENT", or "" if unknown
std::string_view linux_errno_text(int error);  // "No such file or directory", or "unknown error"
std::string linux_signal_name(int signal);     // "SIGKILL", or "SIG34" without a name

}  // namespace procsentry
