// The configuration file (--config, default /etc/procsentry/procsentry.yaml): YAML, read with
// yaml-cpp. Each top-level key is a command-line option (the command line wins), a
// subcommand's section (`record: {db: ...}`), or a section of its own (`rules:`, `redact:`).
// Every error names the file, the line and the key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/config_option.h"
#include "core/result.h"

namespace procsentry {

inline constexpr const char* kDefaultConfigPath = "/etc/procsentry/procsentry.yaml";

struct ConfigFile {
  std::string path;
  YAML::Node root;  // a map (an empty file is an empty map)
};

Result<ConfigFile> load_config_file(const std::string& path);

// "FILE:LINE: KEY: WHAT", the one form of every configuration error.
Error config_error(const ConfigFile& file, const YAML::Node& where, std::string_view key, std::string_view what);

// The keys that are options, every one but the sections that have their own reader (rules,
// and redact when it is a map).
Result<std::vector<ConfigOption>> config_options(const ConfigFile& file);
// Both at once: what the option parser asks of a configuration file (app/options.h).
Result<std::vector<ConfigOption>> read_config_options(const std::string& path);

}  // namespace procsentry
