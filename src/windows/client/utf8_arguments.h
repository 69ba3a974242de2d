// The command line as UTF-8. main's argv is in the ANSI code page, which cannot hold every
// character a path, --argv or --image may have (and SQLite reads paths as UTF-8).
#pragma once

#include <string>
#include <vector>

namespace procsentry {

class Utf8Arguments {
 public:
  // From GetCommandLineW; argc and argv as given if it cannot be read.
  Utf8Arguments(int argc, char** argv);
  int argc() const { return static_cast<int>(pointers_.size()) - 1; }
  char** argv() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;  // into strings_, then nullptr (as main's argv)
};

}  // namespace procsentry
