// What glibc knows of errno values, signals and globs, for the core (core/names.h, core/filter.h).
#include <fnmatch.h>
#include <string.h>

#include "core/filter.h"
#include "core/names.h"

namespace procsentry {

std::string_view errno_name(int error) {
  const char* name = strerrorname_np(error);
  return name != nullptr ? name : "";
}

std::string_view errno_text(int error) {
  const char* text = strerrordesc_np(error);
  return text != nullptr ? text : "unknown error";
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "SIG" + std::to_string(signal);
}

bool glob_matches(const std::string& glob, const std::string& path) {
  return fnmatch(glob.c_str(), path.c_str(), 0) == 0;
}

}  // namespace procsentry
