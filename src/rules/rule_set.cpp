#include "rules/rule_set.h"

#include <algorithm>

namespace procsentry {
namespace {

std::uint32_t kind_bit(EventKind kind) { return 1u << static_cast<unsigned>(kind); }

// What the table knew of the process before this event: a fork's child is not in it yet,
// its parent is (and the child runs the parent's argv).
const ProcessRecord* known_process(ProcessTable& table, const Event& event) {
  const ProcessRecord* self = table.find(event.task.pid);
  if (self == nullptr && event.kind == EventKind::fork) self = table.find(event.parent_pid);
  return self;
}

}  // namespace

RuleSet::RuleSet(RuleList rules, ProcessTable& table) : rules_(std::move(rules)), table_(table) {}

bool RuleSet::admit(Event& event) {
  event.rules.clear();
  if (event.kind == EventKind::lost) return true;  // rules never hide that records were dropped
  joined_ready_ = false;
  for (const Rule& rule : rules_.include) {
    if (matches(rule, event)) event.rules.push_back(rule.name);
  }
  if (!rules_.include.empty() && event.rules.empty()) return false;
  return std::none_of(rules_.exclude.begin(), rules_.exclude.end(),
                      [&](const Rule& rule) { return matches(rule, event); });
}

bool RuleSet::matches(const Rule& rule, const Event& event) {
  if (rule.event_kinds != 0 && (rule.event_kinds & kind_bit(event.kind)) == 0) return false;
  return std::all_of(rule.conditions.begin(), rule.conditions.end(), [&](const RuleCondition& condition) {
    return std::visit([&](const auto& c) { return matches(c, event); }, condition);
  });
}

bool RuleSet::any_glob(const std::vector<GlobPattern>& globs, std::string_view text) {
  return std::any_of(globs.begin(), globs.end(), [&](const GlobPattern& glob) { return glob.matches(text, scratch_); });
}

bool RuleSet::matches(const TextCondition& c, const Event& event) {
  switch (c.field) {
    case RuleText::image:
      return any_glob(c.globs, image_of(event));
    case RuleText::argv0:
      if (event.kind == EventKind::exec) return !event.argv.empty() && any_glob(c.globs, event.argv.front());
      if (const ProcessRecord* p = known_process(table_, event); p != nullptr && !p->argv.empty()) {
        return any_glob(c.globs, std::string_view(p->argv.c_str()));  // up to its first NUL
      }
      return false;
    case RuleText::comm:
      return event.task.has_uid_and_comm && any_glob(c.globs, event.task.comm);
    case RuleText::cwd:
      return event.cwd.present && any_glob(c.globs, event.cwd.bytes);
    case RuleText::user:
      return !event.user.empty() && any_glob(c.globs, event.user);
    case RuleText::parent_image: {
      const std::string_view parent = parent_image(event);
      return !parent.empty() && any_glob(c.globs, parent);
    }
    case RuleText::ancestor_image: {
      const ProcessRecord* p = first_ancestor(event);
      for (std::size_t depth = 0; p != nullptr && depth < ProcessTable::kMaxAncestry; ++depth) {
        if (any_glob(c.globs, p->image)) return true;
        p = table_.parent_of(*p);
      }
      return false;
    }
    case RuleText::container_id:
      return !event.container_id.empty() && any_glob(c.globs, event.container_id);
    case RuleText::cgroup:
      return !event.cgroup.empty() && any_glob(c.globs, event.cgroup);
  }
  return false;
}

bool RuleSet::matches(const FlagCondition& c, const Event& event) const {
  bool value = false;
  switch (c.flag) {
    case RuleFlag::image_memfd:
      value = event.image_memfd;
      break;
    case RuleFlag::image_deleted:
      value = event.image_deleted;
      break;
    case RuleFlag::image_upper_layer:
      value = event.image_upper_layer;
      break;
    case RuleFlag::script:
      value = event.is_script;
      break;
    case RuleFlag::exec_fd:
      value = event.exec_fd;
      break;
    case RuleFlag::argv_truncated:
      value = event.argv_truncated;
      break;
    case RuleFlag::in_container:
      value = !event.container_id.empty();
      break;
    case RuleFlag::tty:
      value = !event.tty.empty();
      break;
  }
  return value == c.wanted;
}

bool RuleSet::matches(const UidCondition& c, const Event& event) const {
  return event.task.has_uid_and_comm && std::find(c.uids.begin(), c.uids.end(), event.task.uid) != c.uids.end();
}

bool RuleSet::matches(const CommandLineCondition& c, const Event& event) {
  const std::string_view line = command_line(event);
  for (const std::string& part : c.contains) {
    if (line.find(part) != std::string_view::npos) return true;
  }
  if (any_glob(c.globs, line)) return true;
  return std::any_of(c.regexes.begin(), c.regexes.end(), [&](const std::unique_ptr<RE2>& re) {
    return RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *re);
  });
}

std::string_view RuleSet::command_line(const Event& event) {
  if (joined_ready_) return joined_;
  joined_ready_ = true;
  joined_.clear();
  if (event.kind == EventKind::create) {
    joined_.assign(event.command_line.bytes);
  } else if (event.kind == EventKind::exec) {
    for (std::size_t i = 0; i < event.argv.size(); ++i) {
      if (i > 0) joined_ += ' ';
      joined_ += event.argv[i];
    }
  } else if (const ProcessRecord* p = known_process(table_, event)) {
    joined_.assign(p->argv);
    while (!joined_.empty() && joined_.back() == '\0') joined_.pop_back();
    std::replace(joined_.begin(), joined_.end(), '\0', ' ');
  }
  return joined_;
}

const ProcessRecord* RuleSet::first_ancestor(const Event& event) {
  if (event.kind == EventKind::fork) return table_.find(event.parent_pid);
  if (const ProcessRecord* self = table_.find(event.task.pid)) return table_.parent_of(*self);
  return table_.find(event.task.ppid);
}

std::string_view RuleSet::parent_image(const Event& event) {
  if (event.parent_image.present) return event.parent_image.bytes;
  const ProcessRecord* parent = first_ancestor(event);
  return parent != nullptr ? std::string_view(parent->image) : std::string_view();
}

}  // namespace procsentry
