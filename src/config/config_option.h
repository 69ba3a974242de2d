// A configuration-file key that stands for a command-line option: `--KEY VALUES...` under
// SECTIONS (a subcommand's name). Kept apart from the YAML reader so that the option parser,
// which the Windows client shares, needs no YAML.
#pragma once

#include <string>
#include <vector>

namespace procsentry {

struct ConfigOption {
  std::vector<std::string> sections;
  std::string key;
  std::vector<std::string> values;  // a list's items, or the one scalar
  int line = 0;
};

}  // namespace procsentry
