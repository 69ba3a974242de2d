#include "config/config_file.h"

#include <fmt/core.h>

#include <fstream>
#include <sstream>

namespace procsentry {
namespace {

// Sections read by their own reader (src/rules, src/redact), not options.
bool own_section(const std::string& key, const YAML::Node& value) {
  return key == "rules" || (key == "redact" && value.IsMap());
}

Result<std::vector<std::string>> scalar_values(const ConfigFile& file, const YAML::Node& value, std::string_view key) {
  std::vector<std::string> values;
  if (value.IsScalar()) {
    values.push_back(value.Scalar());
    return values;
  }
  if (value.IsSequence()) {
    for (const YAML::Node& item : value) {
      if (!item.IsScalar()) return config_error(file, item, key, "a list of plain values was expected");
      values.push_back(item.Scalar());
    }
    return values;
  }
  return config_error(file, value, key, "a value or a list of values was expected");
}

Result<Ok> collect(const ConfigFile& file, const YAML::Node& map, std::vector<std::string> sections,
                   std::vector<ConfigOption>& out) {
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) return config_error(file, entry.first, "?", "a key must be a plain name");
    const std::string key = entry.first.Scalar();
    std::string full;
    for (const std::string& s : sections) full += s + ".";
    full += key;
    if (sections.empty() && own_section(key, entry.second)) continue;
    if (entry.second.IsMap()) {
      if (!sections.empty()) return config_error(file, entry.second, full, "sections do not nest further");
      auto nested = sections;
      nested.push_back(key);
      if (auto r = collect(file, entry.second, nested, out); !r) return r;
      continue;
    }
    auto values = scalar_values(file, entry.second, full);
    if (!values) return values.error();
    out.push_back(ConfigOption{sections, key, std::move(*values), entry.first.Mark().line + 1});
  }
  return Ok{};
}

}  // namespace

Error config_error(const ConfigFile& file, const YAML::Node& where, std::string_view key, std::string_view what) {
  const int line = where.Mark().line >= 0 ? where.Mark().line + 1 : 0;
  return Error{fmt::format("{}:{}: {}: {}", file.path, line, key, what)};
}

Result<ConfigFile> load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{fmt::format("{}: cannot read the configuration file (give another with --config)", path)};
  std::stringstream text;
  text << in.rdbuf();
  ConfigFile file{path, {}};
  try {
    file.root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.msg)};
  }
  if (file.root.IsNull()) file.root = YAML::Node(YAML::NodeType::Map);
  if (!file.root.IsMap()) {
    return Error{
        fmt::format("{}:{}: the file must be a map of keys (e.g. `json: true`)", path, file.root.Mark().line + 1)};
  }
  return file;
}

Result<std::vector<ConfigOption>> config_options(const ConfigFile& file) {
  std::vector<ConfigOption> options;
  if (auto r = collect(file, file.root, {}, options); !r) return r.error();
  return options;
}

Result<std::vector<ConfigOption>> read_config_options(const std::string& path) {
  auto file = load_config_file(path);
  if (!file) return file.error();
  return config_options(*file);
}

}  // namespace procsentry
