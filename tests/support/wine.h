// Running a cross-built Windows program under Wine from a test: Wine's own debug output off,
// the test's PATH, HOME and WINEPREFIX passed on (the prefix Wine made for this user), and a
// UTF-8 locale, by which Wine turns the arguments into the UTF-16 command line.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "support/spawn.h"

namespace procsentry::test {

// Makes sure this prefix's wineserver, and the services Wine starts with it, are up and hold no
// test's pipes: a program that starts them hands them its stdout and stderr, and reading those to
// their end would then wait for the services to exit. Kept up 60 s past its last program, so the
// runs of a test go at a warm start's speed (a tenth of a cold one's).
inline void warm_wineserver() {
  (void)std::system("wineserver -p60 >/dev/null 2>&1; WINEDEBUG=-all wine cmd /c exit </dev/null >/dev/null 2>&1");
}

inline Captured run_wine(const std::string& exe, const std::vector<std::string>& args) {
  warm_wineserver();
  std::vector<std::string> argv{"wine", exe};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.env = std::vector<std::string>{"WINEDEBUG=-all", "LANG=C.UTF-8"};
  for (const char* name : {"PATH", "HOME", "WINEPREFIX"}) {
    if (const char* value = std::getenv(name)) options.env->push_back(std::string(name) + "=" + value);
  }
  return capture("wine", argv, options);
}

}  // namespace procsentry::test
