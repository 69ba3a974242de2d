#include "rules/rule_set.h"

#include <algorithm>
#include <bit>

namespace procsentry {
namespace {

void set_bit(std::vector<std::uint64_t>& bits, std::size_t i) { bits[i / 64] |= std::uint64_t{1} << (i % 64); }

bool flag_of(RuleFlag flag, const Event& event) {
  switch (flag) {
    case RuleFlag::image_memfd:
      return event.image_memfd;
    case RuleFlag::image_deleted:
      return event.image_deleted;
    case RuleFlag::image_upper_layer:
      return event.image_upper_layer;
    case RuleFlag::script:
      return event.is_script;
    case RuleFlag::exec_fd:
      return event.exec_fd;
    case RuleFlag::argv_truncated:
      return event.argv_truncated;
    case RuleFlag::in_container:
      return !event.container_id.empty();
    case RuleFlag::tty:
      return !event.tty.empty();
  }
  return false;
}

}  // namespace

RuleSet::RuleSet(RuleList rules, ProcessTable& table) : rules_(std::move(rules)), table_(table) { compile(); }

RuleSet::CompiledRule RuleSet::compile_rule(const Rule& rule) {
  CompiledRule compiled{&rule, {}};
  for (const RuleCondition& condition : rule.conditions) {
    Check c;
    c.condition = &condition;
    if (std::holds_alternative<FlagCondition>(condition)) {
      c.kind = Check::Kind::flag;
      c.cost = 0;
    } else if (std::holds_alternative<UidCondition>(condition)) {
      c.kind = Check::Kind::uid;
      c.cost = 1;
    } else if (const auto* text = std::get_if<TextCondition>(&condition)) {
      if (text->field == RuleText::ancestor_image) {
        c.kind = Check::Kind::ancestor;  // several texts per event: see ancestor_hits()
        c.cost = 5;
        for (const GlobPattern& glob : text->globs) c.ids.push_back(ancestor_patterns_.add_glob(glob));
      } else {
        constexpr Field kFieldOf[] = {kImage,       kArgv0,       kComm,        kCwd,   kUser,
                                      kParentImage, kParentImage, kContainerId, kCgroup};  // ancestor_image unused
        c.kind = Check::Kind::field;
        c.field = kFieldOf[static_cast<std::size_t>(text->field)];
        c.cost = 2;
        for (const GlobPattern& glob : text->globs) c.ids.push_back(fields_[c.field].add_glob(glob));
      }
    } else if (const auto* line = std::get_if<CommandLineCondition>(&condition)) {
      c.field = kCommandLine;
      FieldMatcher& f = fields_[kCommandLine];
      for (const GlobPattern& glob : line->globs) c.ids.push_back(f.add_glob(glob));
      for (const std::string& needle : line->contains) c.ids.push_back(f.add_substring(needle));
      for (const auto& re : line->regexes) c.ids.push_back(f.add_regex(*re));
      c.kind = Check::Kind::field;
      c.cost = 3;
    }
    compiled.checks.push_back(std::move(c));
  }
  std::stable_sort(compiled.checks.begin(), compiled.checks.end(),
                   [](const Check& a, const Check& b) { return a.cost < b.cost; });
  return compiled;
}

// A rule is anchored on its first check on a field (cheapest first): see anchored_on_.
void RuleSet::index_anchor(const CompiledRule& rule, std::size_t index) {
  const std::uint32_t kinds = rule.rule->event_kinds;
  for (std::size_t k = 0; k < kEventKindSlots; ++k) {
    if (kinds == 0 || (kinds & (1u << k)) != 0) set_bit(of_kind_[k], index);
  }
  for (const Check& c : rule.checks) {
    if (c.kind != Check::Kind::field) continue;
    const FieldMatcher& f = fields_[c.field];
    for (int id : c.ids) {
      anchored_on_[c.field][static_cast<std::size_t>(id)].push_back(static_cast<std::uint32_t>(index));
      const auto& in_bytes = f.bytes_set_patterns();
      if (std::find(in_bytes.begin(), in_bytes.end(), id) != in_bytes.end())
        set_bit(anchored_on_bytes_set_[c.field], index);
      const auto& in_regex = f.regex_set_patterns();
      if (std::find(in_regex.begin(), in_regex.end(), id) != in_regex.end())
        set_bit(anchored_on_regex_set_[c.field], index);
    }
    if (!anchor_field_[c.field]) {
      anchor_kinds_[c.field] = kinds;
    } else if (anchor_kinds_[c.field] != 0) {
      anchor_kinds_[c.field] = kinds == 0 ? 0 : anchor_kinds_[c.field] | kinds;
    }
    anchor_field_[c.field] = true;
    return;
  }
  set_bit(unanchored_, index);
}

void RuleSet::compile() {
  for (const Rule& rule : rules_.include) include_.push_back(compile_rule(rule));
  for (const Rule& rule : rules_.exclude) exclude_.push_back(compile_rule(rule));
  include_matches_.assign(include_.size(), 0);
  exclude_matches_.assign(exclude_.size(), 0);
  const std::size_t rules = include_.size() + exclude_.size();
  const RuleBits none((rules + 63) / 64, 0);
  unanchored_ = tried_ = none;
  of_kind_.fill(none);
  for (std::size_t f = 0; f < kFields; ++f) {
    fields_[f].compile();
    anchored_on_[f].resize(fields_[f].size());
    anchored_on_bytes_set_[f] = anchored_on_regex_set_[f] = none;
  }
  std::size_t index = 0;
  for (const CompiledRule& rule : include_) index_anchor(rule, index++);
  for (const CompiledRule& rule : exclude_) index_anchor(rule, index++);
  ancestor_patterns_.compile();
  ancestor_hits_.assign(ancestor_patterns_.size(), 0);
}

bool RuleSet::admit(Event& event) {
  event.rules.clear();
  if (event.kind == EventKind::lost) return true;  // rules never hide that records were dropped
  joined_ready_ = known_ready_ = ancestor_ready_ = ancestors_ready_ = false;
  scanned_.fill(false);
  find_candidates(event);
  const std::size_t includes = include_.size();
  for (std::size_t i = next_tried(0); i < includes; i = next_tried(i + 1)) {
    if (matches(include_[i], event)) {
      event.rules.push_back(include_[i].rule->name);
      ++include_matches_[i];
    }
  }
  if (includes != 0 && event.rules.empty()) return false;
  for (std::size_t i = next_tried(includes); i < includes + exclude_.size(); i = next_tried(i + 1)) {
    if (matches(exclude_[i - includes], event)) {
      ++exclude_matches_[i - includes];
      return false;
    }
  }
  return true;
}

// tried_: the rules of the event's kind that are not anchored, or whose anchor may have hit.
void RuleSet::find_candidates(const Event& event) {
  const auto kind = static_cast<std::size_t>(event.kind);
  std::copy(unanchored_.begin(), unanchored_.end(), tried_.begin());
  for (std::size_t f = 0; f < kFields; ++f) {
    if (!anchor_field_[f]) continue;
    if (anchor_kinds_[f] != 0 && (anchor_kinds_[f] & (1u << kind)) == 0) continue;
    scan(static_cast<Field>(f), event);
    const FieldMatcher& field = fields_[f];
    for (int id : field.hits()) {
      for (std::uint32_t rule : anchored_on_[f][static_cast<std::size_t>(id)]) set_bit(tried_, rule);
    }
    for (std::size_t w = 0; w < tried_.size(); ++w) {
      if (field.bytes_set_maybe()) tried_[w] |= anchored_on_bytes_set_[f][w];
      if (field.regex_set_maybe()) tried_[w] |= anchored_on_regex_set_[f][w];
    }
  }
  for (std::size_t w = 0; w < tried_.size(); ++w) tried_[w] &= of_kind_[kind][w];
}

// The first rule at or after `from` to try; past the last rule when none.
std::size_t RuleSet::next_tried(std::size_t from) const {
  std::size_t w = from / 64;
  if (w >= tried_.size()) return from;
  std::uint64_t bits = tried_[w] & (~std::uint64_t{0} << (from % 64));
  while (bits == 0) {
    if (++w == tried_.size()) return include_.size() + exclude_.size();
    bits = tried_[w];
  }
  return w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
}

bool RuleSet::matches(const CompiledRule& rule, const Event& event) {
  for (const Check& c : rule.checks) {
    if (!check(c, event)) return false;
  }
  return true;
}

bool RuleSet::check(const Check& c, const Event& event) {
  switch (c.kind) {
    case Check::Kind::flag: {
      const auto& f = std::get<FlagCondition>(*c.condition);
      return flag_of(f.flag, event) == f.wanted;
    }
    case Check::Kind::uid: {
      const auto& u = std::get<UidCondition>(*c.condition);
      return event.task.has_uid_and_comm && std::find(u.uids.begin(), u.uids.end(), event.task.uid) != u.uids.end();
    }
    case Check::Kind::field:
      if (!scanned_[c.field]) scan(c.field, event);
      return std::any_of(c.ids.begin(), c.ids.end(), [&](int id) { return fields_[c.field].matches(id); });
    case Check::Kind::ancestor: {
      const std::vector<std::uint8_t>& hits = ancestor_hits(event);
      return std::any_of(c.ids.begin(), c.ids.end(), [&](int id) { return hits[static_cast<std::size_t>(id)] != 0; });
    }
  }
  return false;
}

void RuleSet::scan(Field field, const Event& event) {
  scanned_[field] = true;
  const std::optional<std::string_view> text = field_text(field, event);
  fields_[field].scan(text ? &*text : nullptr);
}

std::optional<std::string_view> RuleSet::field_text(Field field, const Event& event) {
  switch (field) {
    case kImage:
      return image_of(event);
    case kArgv0:
      if (event.kind == EventKind::exec) {
        if (event.argv.empty()) return std::nullopt;
        return event.argv.front();
      }
      if (const ProcessRecord* p = known_process(event); p != nullptr && !p->argv.empty()) {
        return std::string_view(p->argv.c_str());  // up to its first NUL
      }
      return std::nullopt;
    case kComm:
      if (!event.task.has_uid_and_comm) return std::nullopt;
      return event.task.comm;
    case kCwd:
      if (!event.cwd.present) return std::nullopt;
      return event.cwd.bytes;
    case kUser:
      if (event.user.empty()) return std::nullopt;
      return event.user;
    case kParentImage: {
      const std::string_view parent = parent_image(event);
      if (parent.empty()) return std::nullopt;
      return parent;
    }
    case kContainerId:
      if (event.container_id.empty()) return std::nullopt;
      return event.container_id;
    case kCgroup:
      if (event.cgroup.empty()) return std::nullopt;
      return event.cgroup;
    case kCommandLine:
      return command_line(event);
  }
  return std::nullopt;
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
  } else if (const ProcessRecord* p = known_process(event)) {
    joined_.assign(p->argv);
    while (!joined_.empty() && joined_.back() == '\0') joined_.pop_back();
    std::replace(joined_.begin(), joined_.end(), '\0', ' ');
  }
  return joined_;
}

// What the table knew of the process before this event: a fork's child is not in it yet,
// its parent is (and the child runs the parent's argv).
const ProcessRecord* RuleSet::known_process(const Event& event) {
  if (known_ready_) return known_;
  known_ready_ = true;
  known_ = table_.find(event.task.pid);
  if (known_ == nullptr && event.kind == EventKind::fork) known_ = table_.find(event.parent_pid);
  return known_;
}

const ProcessRecord* RuleSet::first_ancestor(const Event& event) {
  if (ancestor_ready_) return ancestor_;
  ancestor_ready_ = true;
  if (event.kind == EventKind::fork) {
    ancestor_ = table_.find(event.parent_pid);
  } else if (const ProcessRecord* self = table_.find(event.task.pid)) {
    ancestor_ = table_.parent_of(*self);
  } else {
    ancestor_ = table_.find(event.task.ppid);
  }
  return ancestor_;
}

// Which ancestor_image patterns any ancestor's image matches: the ancestors walked and each
// image scanned once per event, however many rules ask.
const std::vector<std::uint8_t>& RuleSet::ancestor_hits(const Event& event) {
  if (ancestors_ready_) return ancestor_hits_;
  ancestors_ready_ = true;
  std::fill(ancestor_hits_.begin(), ancestor_hits_.end(), 0);
  const ProcessRecord* p = first_ancestor(event);
  for (std::size_t depth = 0; p != nullptr && depth < ProcessTable::kMaxAncestry; ++depth) {
    const std::string_view image = p->image;
    ancestor_patterns_.scan(&image);
    for (std::size_t id = 0; id < ancestor_hits_.size(); ++id) {
      if (ancestor_hits_[id] == 0 && ancestor_patterns_.matches(static_cast<int>(id))) ancestor_hits_[id] = 1;
    }
    p = table_.parent_of(*p);
  }
  return ancestor_hits_;
}

std::string_view RuleSet::parent_image(const Event& event) {
  if (event.parent_image.present) return event.parent_image.bytes;
  const ProcessRecord* parent = first_ancestor(event);
  return parent != nullptr ? std::string_view(parent->image) : std::string_view();
}

}  // namespace procsentry
