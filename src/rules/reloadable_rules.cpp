#include "rules/reloadable_rules.h"

#include <fmt/core.h>

#include "rules/rules_config.h"

namespace procsentry {

Result<std::unique_ptr<RuleSet>> ReloadableRules::read() const {
  auto file = load_config_file(path_);
  if (!file) return file.error();
  auto rules = rules_from_config(*file);
  if (!rules) return rules.error();
  return std::make_unique<RuleSet>(std::move(*rules), table_);
}

Result<std::unique_ptr<ReloadableRules>> ReloadableRules::open(std::string path, ProcessTable& table) {
  std::unique_ptr<ReloadableRules> rules(new ReloadableRules(std::move(path), table));
  auto first = rules->read();
  if (!first) return first.error();
  rules->current_ = std::move(*first);
  return rules;
}

bool ReloadableRules::reload(std::FILE* diagnostics) {
  auto next = read();
  if (!next) {
    fmt::print(diagnostics, "procsentry: {} (reload refused: the rules and redaction in force stay)\n",
               next.error().message);
    std::fflush(diagnostics);
    return false;
  }
  current_ = std::move(*next);
  const RuleList& now = current_->rules();
  fmt::print(diagnostics, "procsentry: reloaded the rules of {}: {} include, {} exclude\n", path_, now.include.size(),
             now.exclude.size());
  std::fflush(diagnostics);
  return true;
}

}  // namespace procsentry
