// errno values, signals and globs for the core (core/names.h, core/filter.h) on Windows.
#include <shlwapi.h>
#include <windows.h>

#include "core/filter.h"
#include "core/names.h"

namespace procsentry {

// Windows records carry neither errno values nor signals.
std::string_view errno_name(int) { return ""; }
std::string_view errno_text(int) { return "unknown error"; }
std::string signal_name(int signal) { return "SIG" + std::to_string(signal); }

bool glob_matches(const std::string& glob, const std::string& path) {
  return PathMatchSpecA(path.c_str(), glob.c_str()) != FALSE;
}

}  // namespace procsentry
