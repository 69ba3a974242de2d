// The rules of a config file (`rules: include: / exclude:`), compiled once: Sysmon's
// semantics. An event is kept when it matches an include rule (or there are none) and no
// exclude rule; the names of the include rules it matches are put in the event. A rule
// matches when all its conditions do; a condition matches when any of its values does.
// Matching allocates nothing once its scratch strings have grown.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/event.h"
#include "core/event_rules.h"
#include "core/process_table.h"
#include "rules/glob_pattern.h"

namespace procsentry {

// Text fields a rule can glob.
enum class RuleText { image, argv0, comm, cwd, user, parent_image, ancestor_image, container_id, cgroup };
// Yes/no facts a rule can ask for.
enum class RuleFlag {
  image_memfd,
  image_deleted,
  image_upper_layer,
  script,
  exec_fd,
  argv_truncated,
  in_container,
  tty
};

struct TextCondition {
  RuleText field;
  std::vector<GlobPattern> globs;
};
struct FlagCondition {
  RuleFlag flag;
  bool wanted = true;
};
struct UidCondition {
  std::vector<std::uint32_t> uids;
};
// On the command line joined by spaces: any substring, glob or regex (RE2: linear time
// whatever the argv, which an attacker chooses).
struct CommandLineCondition {
  std::vector<std::string> contains;
  std::vector<GlobPattern> globs;
  std::vector<std::unique_ptr<RE2>> regexes;
};
using RuleCondition = std::variant<TextCondition, FlagCondition, UidCondition, CommandLineCondition>;

struct Rule {
  std::string name;
  std::uint32_t event_kinds = 0;  // bit per EventKind; 0: every kind
  std::vector<RuleCondition> conditions;
};

struct RuleList {
  std::vector<Rule> include;
  std::vector<Rule> exclude;
  bool empty() const { return include.empty() && exclude.empty(); }
};

class RuleSet final : public EventRules {
 public:
  // The table answers what an event does not carry: a fork's or exit's argv and parent,
  // every event's ancestors.
  RuleSet(RuleList rules, ProcessTable& table);
  bool admit(Event& event) override;
  const RuleList& rules() const { return rules_; }

 private:
  bool matches(const Rule& rule, const Event& event);
  bool matches(const TextCondition& c, const Event& event);
  bool matches(const FlagCondition& c, const Event& event) const;
  bool matches(const UidCondition& c, const Event& event) const;
  bool matches(const CommandLineCondition& c, const Event& event);
  bool any_glob(const std::vector<GlobPattern>& globs, std::string_view text);
  std::string_view command_line(const Event& event);  // joined once per event, on demand
  std::string_view parent_image(const Event& event);
  const ProcessRecord* first_ancestor(const Event& event);  // the parent, from the table

  RuleList rules_;
  ProcessTable& table_;
  // Per event (the pipeline's one thread): the joined command line and fnmatch's copy.
  bool joined_ready_ = false;
  std::string joined_;
  std::string scratch_;
};

}  // namespace procsentry
