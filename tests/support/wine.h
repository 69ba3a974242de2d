// Running a cross-built Windows program under Wine from a test: Wine's own debug output off,
// the test's PATH, HOME and WINEPREFIX passed on (the prefix Wine made for this user), and a
// UTF-8 locale, by which Wine turns the arguments into the UTF-16 command line.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "support/spawn.h"

namespace procsentry::test {

inline Captured run_wine(const std::string& exe, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"wine", exe};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.env = std::vector<std::string>{"WINEDEBUG=-all", "LANG=C.UTF-8"};
  for (const char* name : {"PATH", "HOME", "WINEPREFIX"}) {
    if (const char* value = std::getenv(name)) options.env->push_back(std::string(name) + "=" + value);
  }
  return capture("wine", argv, options);
}

// Keeps this prefix's wineserver up `seconds` past its last program (it then exits by itself):
// each later run starts in a tenth of the second a cold start takes. A server already up stays.
inline void keep_wineserver(int seconds) {
  const std::string command = "wineserver -p" + std::to_string(seconds) + " >/dev/null 2>&1";
  (void)std::system(command.c_str());
}

}  // namespace procsentry::test
