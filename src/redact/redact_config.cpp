#include "redact/redact_config.h"

#include <fmt/core.h>

namespace procsentry {
namespace {

Result<bool> on_or_off(const ConfigFile& file, const YAML::Node& node, std::string_view key) {
  if (node.IsScalar()) {
    const std::string& v = node.Scalar();
    if (v == "on") return true;
    if (v == "off") return false;
    bool value = false;
    if (YAML::convert<bool>::decode(node, value)) return value;
  }
  return config_error(file, node, key, "true or false (on or off) was expected");
}

Result<std::vector<std::string>> names_or_regexes(const ConfigFile& file, const YAML::Node& node,
                                                  const std::string& key) {
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) items.push_back(item);
  } else {
    return config_error(file, node, key, "a value or a list of values was expected");
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string where = node.IsSequence() ? fmt::format("{}[{}]", key, i) : key;
    if (!items[i].IsScalar() || items[i].Scalar().empty()) {
      return config_error(file, items[i], where, "a non-empty plain value was expected");
    }
    out.push_back(items[i].Scalar());
  }
  return out;
}

Result<RedactSettings> read_map(const ConfigFile& file, const YAML::Node& section) {
  RedactSettings settings;
  for (const auto& entry : section) {
    const std::string name = entry.first.Scalar();
    const std::string key = "redact." + name;
    if (name == "builtin") {
      auto b = on_or_off(file, entry.second, key);
      if (!b) return b.error();
      settings.builtin = *b;
    } else if (name == "options") {
      auto names = names_or_regexes(file, entry.second, key);
      if (!names) return names.error();
      for (std::size_t i = 0; i < names->size(); ++i) {
        const std::string& n = (*names)[i];
        if (n.find_first_of("= \t") != std::string::npos || n.find_first_not_of('-') == std::string::npos) {
          const YAML::Node& where = entry.second.IsSequence() ? entry.second[i] : entry.second;
          return config_error(file, where, key, fmt::format("\"{}\" is not an option name (e.g. my-secret-flag)", n));
        }
      }
      settings.options = std::move(*names);
    } else if (name == "regex") {
      auto regexes = names_or_regexes(file, entry.second, key);
      if (!regexes) return regexes.error();
      for (std::size_t i = 0; i < regexes->size(); ++i) {
        RE2::Options options;
        options.set_log_errors(false);
        options.set_encoding(RE2::Options::EncodingLatin1);
        RE2 re((*regexes)[i], options);
        const YAML::Node& where = entry.second.IsSequence() ? entry.second[i] : entry.second;
        if (!re.ok()) return config_error(file, where, key, fmt::format("bad regex: {}", re.error()));
        if (re.Match("", 0, 0, RE2::UNANCHORED, nullptr, 0)) {
          return config_error(file, where, key, "this regex matches an empty text: it would mask nothing");
        }
      }
      settings.regexes = std::move(*regexes);
    } else {
      return config_error(file, entry.first, key, "unknown key (expected builtin, options or regex)");
    }
  }
  return settings;
}

}  // namespace

Result<RedactSettings> redact_from_config(const ConfigFile& file) {
  const YAML::Node section = file.root["redact"];
  if (!section) return RedactSettings{};
  if (section.IsMap()) return read_map(file, section);
  auto enabled = on_or_off(file, section, "redact");
  if (!enabled) return enabled.error();
  RedactSettings settings;
  settings.enabled = *enabled;
  return settings;
}

}  // namespace procsentry
