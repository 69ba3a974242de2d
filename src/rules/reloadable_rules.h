// The rules of a configuration file, read again on request (SIGHUP): a file that no longer
// reads is reported in one line and the rules in force stay. Swapped between polls, on the
// event thread that also matches them: events already written hold no view into the old set.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "core/event_rules.h"
#include "core/process_table.h"
#include "core/result.h"
#include "rules/rule_set.h"

namespace procsentry {

class ReloadableRules final : public EventRules {
 public:
  // Reads `path` once; an error here means the monitor cannot start.
  static Result<std::unique_ptr<ReloadableRules>> open(std::string path, ProcessTable& table);
  bool admit(Event& event) override { return current_->admit(event); }
  // Reads the file again; says on `diagnostics` what it did. True when the new rules are in force.
  bool reload(std::FILE* diagnostics);
  const RuleSet& current() const { return *current_; }

 private:
  ReloadableRules(std::string path, ProcessTable& table) : path_(std::move(path)), table_(table) {}
  Result<std::unique_ptr<RuleSet>> read() const;

  std::string path_;
  ProcessTable& table_;
  std::unique_ptr<RuleSet> current_;
};

}  // namespace procsentry
