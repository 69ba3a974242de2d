// The rules of a config file (`rules: include: / exclude:`), compiled once: Sysmon's
// semantics. An event is kept when it matches an include rule (or there are none) and no
// exclude rule; the names of the include rules it matches are put in the event. A rule
// matches when all its conditions do; a condition matches when any of its values does.
// Matching allocates nothing once its scratch strings have grown and RE2's caches are warm.
#pragma once

#include <re2/re2.h>

#include <array>
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
#include "rules/field_matcher.h"
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
  // Events each rule matched since this set was made (event thread): an include rule's are
  // the events it tagged, an exclude rule's those it left out (the first exclude rule that
  // matched is counted).
  std::uint64_t include_matches(std::size_t i) const { return include_matches_[i]; }
  std::uint64_t exclude_matches(std::size_t i) const { return exclude_matches_[i]; }

 private:
  // The texts an event is matched on, each scanned at most once per event.
  enum Field : std::uint8_t { kImage, kArgv0, kComm, kCwd, kUser, kParentImage, kContainerId, kCgroup, kCommandLine };
  static constexpr std::size_t kFields = 9;
  // A rule's condition, in the order the rule is evaluated: cheapest first.
  struct Check {
    enum class Kind : std::uint8_t { flag, uid, field, ancestor } kind;
    int cost = 0;
    Field field = kImage;
    const RuleCondition* condition = nullptr;
    std::vector<int> ids;  // any of these patterns of fields_[field] (ancestor: ancestor_patterns_) matches
  };
  struct CompiledRule {
    const Rule* rule = nullptr;
    std::vector<Check> checks;
  };
  // One bit per rule: the include rules first, then the exclude rules.
  using RuleBits = std::vector<std::uint64_t>;

  void compile();
  void index_anchor(const CompiledRule& rule, std::size_t index);
  void find_candidates(const Event& event);
  std::size_t next_tried(std::size_t from) const;
  CompiledRule compile_rule(const Rule& rule);
  bool matches(const CompiledRule& rule, const Event& event);
  bool check(const Check& c, const Event& event);
  void scan(Field field, const Event& event);
  std::optional<std::string_view> field_text(Field field, const Event& event);
  std::string_view command_line(const Event& event);  // joined once per event, on demand
  std::string_view parent_image(const Event& event);
  const ProcessRecord* known_process(const Event& event);   // its argv's owner, from the table
  const ProcessRecord* first_ancestor(const Event& event);  // the parent, from the table
  const std::vector<std::uint8_t>& ancestor_hits(const Event& event);

  RuleList rules_;
  ProcessTable& table_;
  std::vector<CompiledRule> include_, exclude_;
  std::vector<std::uint64_t> include_matches_, exclude_matches_;  // index: the rule's
  std::array<FieldMatcher, kFields> fields_;
  FieldMatcher ancestor_patterns_;  // every ancestor's image is matched against them
  // A rule with a check on a field is tried only when that field may have matched one of the
  // check's patterns (its anchor): most rules are then never tried for most events. Per
  // field: the rules anchored on each pattern, and on any pattern of each Set; the event
  // kinds of the rules anchored on it (0: any), and whether any is.
  std::array<std::vector<std::vector<std::uint32_t>>, kFields> anchored_on_;
  std::array<RuleBits, kFields> anchored_on_bytes_set_, anchored_on_regex_set_;
  std::array<std::uint32_t, kFields> anchor_kinds_{};
  std::array<bool, kFields> anchor_field_{};
  RuleBits unanchored_;                            // tried for every event of their kinds
  std::array<RuleBits, kEventKindSlots> of_kind_;  // the rules that apply to each kind
  // Per event (the pipeline's one thread): the rules to try, which fields were scanned, the
  // joined command line and the table's answers.
  RuleBits tried_;
  std::array<bool, kFields> scanned_{};
  bool joined_ready_ = false;
  std::string joined_;
  bool known_ready_ = false, ancestor_ready_ = false;
  const ProcessRecord* known_ = nullptr;
  const ProcessRecord* ancestor_ = nullptr;
  bool ancestors_ready_ = false;
  std::vector<std::uint8_t> ancestor_hits_;  // index: a pattern of ancestor_patterns_
};

}  // namespace procsentry
