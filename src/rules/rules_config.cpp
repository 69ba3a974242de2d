#include "rules/rules_config.h"

#include <fmt/core.h>

#include <set>
#include <string_view>

namespace procsentry {
namespace {

struct TextKey {
  std::string_view key;
  RuleText field;
};
constexpr TextKey kTextKeys[] = {
    {"image", RuleText::image},
    {"argv0", RuleText::argv0},
    {"comm", RuleText::comm},
    {"cwd", RuleText::cwd},
    {"user", RuleText::user},
    {"parent_image", RuleText::parent_image},
    {"ancestor_image", RuleText::ancestor_image},
    {"container_id", RuleText::container_id},
    {"cgroup", RuleText::cgroup},
};
struct FlagKey {
  std::string_view key;
  RuleFlag flag;
};
constexpr FlagKey kFlagKeys[] = {
    {"image_memfd", RuleFlag::image_memfd},
    {"image_deleted", RuleFlag::image_deleted},
    {"image_upper_layer", RuleFlag::image_upper_layer},
    {"script", RuleFlag::script},
    {"exec_fd", RuleFlag::exec_fd},
    {"argv_truncated", RuleFlag::argv_truncated},
    {"in_container", RuleFlag::in_container},
    {"tty", RuleFlag::tty},
};
// The kinds a rule can name (lost always passes; hash follows --hash).
constexpr std::string_view kRuleEvents[] = {"exec", "exec_failed", "fork", "exit", "create", "hash"};

class Reader {
 public:
  explicit Reader(const ConfigFile& file) : file_(file) {}

  Result<RuleList> read(const YAML::Node& section) {
    RuleList rules;
    if (!section.IsMap()) return fail(section, "rules", "a map with `include:` and/or `exclude:` lists was expected");
    std::set<std::string> names;
    for (const auto& entry : section) {
      const std::string list = entry.first.Scalar();
      if (list != "include" && list != "exclude") {
        return fail(entry.first, "rules." + list, "unknown key (expected include or exclude)");
      }
      if (!entry.second.IsSequence()) return fail(entry.second, "rules." + list, "a list of rules was expected");
      auto& into = list == "include" ? rules.include : rules.exclude;
      for (std::size_t i = 0; i < entry.second.size(); ++i) {
        auto rule = read_rule(entry.second[i], fmt::format("rules.{}[{}]", list, i));
        if (!rule) return rule.error();
        if (!names.insert(rule->name).second) {
          return fail(entry.second[i]["name"], fmt::format("rules.{}[{}].name", list, i),
                      fmt::format("the name \"{}\" is already another rule's", rule->name));
        }
        into.push_back(std::move(*rule));
      }
    }
    return rules;
  }

 private:
  Error fail(const YAML::Node& where, std::string_view key, std::string_view what) const {
    return config_error(file_, where, key, what);
  }

  // One value or a list of them, each a plain scalar.
  Result<std::vector<YAML::Node>> values(const YAML::Node& node, const std::string& key) const {
    std::vector<YAML::Node> out;
    if (node.IsScalar()) {
      out.push_back(node);
    } else if (node.IsSequence() && node.size() > 0) {
      for (const YAML::Node& item : node) {
        if (!item.IsScalar()) return fail(item, key, "a list of plain values was expected");
        out.push_back(item);
      }
    } else {
      return fail(node, key, "a value or a non-empty list of values was expected");
    }
    return out;
  }

  Result<std::vector<GlobPattern>> globs(const YAML::Node& node, const std::string& key) const {
    auto items = values(node, key);
    if (!items) return items.error();
    std::vector<GlobPattern> out;
    for (const YAML::Node& item : *items) {
      auto glob = GlobPattern::compile(item.Scalar());
      if (!glob) return fail(item, key, glob.error().message);
      out.push_back(std::move(*glob));
    }
    return out;
  }

  Result<bool> boolean(const YAML::Node& node, const std::string& key) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return fail(node, key, "true or false was expected");
    }
    return value;
  }

  Result<CommandLineCondition> command_line(const YAML::Node& node, const std::string& key) const {
    CommandLineCondition c;
    if (!node.IsMap()) {  // plain strings are globs, as everywhere
      auto g = globs(node, key);
      if (!g) return g.error();
      c.globs = std::move(*g);
      return c;
    }
    for (const auto& entry : node) {
      const std::string how = entry.first.Scalar();
      const std::string sub = key + "." + how;
      if (how == "glob") {
        auto g = globs(entry.second, sub);
        if (!g) return g.error();
        for (auto& glob : *g) c.globs.push_back(std::move(glob));
      } else if (how == "contains" || how == "regex") {
        auto items = values(entry.second, sub);
        if (!items) return items.error();
        for (const YAML::Node& item : *items) {
          if (item.Scalar().empty()) return fail(item, sub, "an empty text matches everything: leave it out");
          if (how == "contains") {
            c.contains.push_back(item.Scalar());
            continue;
          }
          RE2::Options options;
          options.set_log_errors(false);
          auto re = std::make_unique<RE2>(item.Scalar(), options);
          if (!re->ok()) return fail(item, sub, fmt::format("bad regex: {}", re->error()));
          c.regexes.push_back(std::move(re));
        }
      } else {
        return fail(entry.first, sub, "unknown key (expected contains, regex or glob)");
      }
    }
    if (c.contains.empty() && c.globs.empty() && c.regexes.empty()) {
      return fail(node, key, "expected contains, regex or glob");
    }
    return c;
  }

  Result<Rule> read_rule(const YAML::Node& node, const std::string& where) const {
    if (!node.IsMap()) return fail(node, where, "a rule is a map: name and conditions");
    Rule rule;
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      const std::string full = where + "." + key;
      const YAML::Node& value = entry.second;
      if (key == "name") {
        if (!value.IsScalar() || value.Scalar().empty()) return fail(value, full, "a non-empty name was expected");
        rule.name = value.Scalar();
        continue;
      }
      if (key == "event") {
        auto items = values(value, full);
        if (!items) return items.error();
        for (const YAML::Node& item : *items) {
          auto kind = event_kind_from_string(item.Scalar());
          if (!kind ||
              std::find(std::begin(kRuleEvents), std::end(kRuleEvents), item.Scalar()) == std::end(kRuleEvents)) {
            return fail(item, full,
                        fmt::format("unknown event \"{}\" (expected exec, exec_failed, fork, exit, create or hash)",
                                    item.Scalar()));
          }
          rule.event_kinds |= 1u << static_cast<unsigned>(*kind);
        }
        continue;
      }
      if (key == "argv") {
        auto c = command_line(value, full);
        if (!c) return c.error();
        rule.conditions.emplace_back(std::move(*c));
        continue;
      }
      if (key == "uid") {
        auto items = values(value, full);
        if (!items) return items.error();
        UidCondition c;
        for (const YAML::Node& item : *items) {
          std::uint32_t uid = 0;
          if (!YAML::convert<std::uint32_t>::decode(item, uid)) return fail(item, full, "a user id was expected");
          c.uids.push_back(uid);
        }
        rule.conditions.emplace_back(std::move(c));
        continue;
      }
      if (auto text =
              std::find_if(std::begin(kTextKeys), std::end(kTextKeys), [&](const TextKey& k) { return k.key == key; });
          text != std::end(kTextKeys)) {
        auto g = globs(value, full);
        if (!g) return g.error();
        rule.conditions.emplace_back(TextCondition{text->field, std::move(*g)});
        continue;
      }
      if (auto flag =
              std::find_if(std::begin(kFlagKeys), std::end(kFlagKeys), [&](const FlagKey& k) { return k.key == key; });
          flag != std::end(kFlagKeys)) {
        auto b = boolean(value, full);
        if (!b) return b.error();
        rule.conditions.emplace_back(FlagCondition{flag->flag, *b});
        continue;
      }
      return fail(entry.first, full,
                  "unknown condition (expected event, image, argv, argv0, comm, cwd, user, uid, parent_image, "
                  "ancestor_image, container_id, in_container, cgroup, tty, image_memfd, image_deleted, "
                  "image_upper_layer, script, exec_fd or argv_truncated)");
    }
    if (rule.name.empty()) return fail(node, where, "every rule needs a `name`");
    return rule;
  }

  const ConfigFile& file_;
};

}  // namespace

Result<RuleList> rules_from_config(const ConfigFile& file) {
  const YAML::Node section = file.root["rules"];
  if (!section) return RuleList{};
  return Reader(file).read(section);
}

}  // namespace procsentry
