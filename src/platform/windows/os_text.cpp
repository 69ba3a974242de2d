// errno values, signals and globs for the core (core/names.h, core/filter.h) on Windows.
#include <shlwapi.h>
#include <windows.h>

#include "core/filter.h"
#include "core/names.h"
#include "platform/linux_kernel_names.h"

namespace procsentry {

// Windows records carry neither errno values nor signals: those shown come from a Linux kernel
// (a Linux capture replayed, a Linux store read), named as the Linux client names them.
std::string_view errno_name(int error) { return linux_errno_name(error); }
std::string_view errno_text(int error) { return linux_errno_text(error); }
std::string signal_name(int signal) { return linux_signal_name(signal); }

bool glob_matches(const std::string& glob, const std::string& path) {
  return PathMatchSpecA(path.c_str(), glob.c_str()) != FALSE;
}

}  // namespace procsentry
