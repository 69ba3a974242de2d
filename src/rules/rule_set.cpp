#include "rules/rule_set.h"

#include <algorithm>

#include "rules/glob_regex.h"

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

RE2::Options set_options() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);  // bytes, as fnmatch and memmem see them
  options.set_log_errors(false);
  options.set_dot_nl(true);
  return options;
}

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

int RuleSet::add_pattern(Field field, const GlobPattern* glob, const std::string* needle, const RE2* regex) {
  FieldPatterns& f = fields_[field];
  const int id = static_cast<int>(glob_of_.size());
  glob_of_.push_back(glob);
  needle_of_.push_back(needle);
  regex_of_.push_back(regex);
  field_ids_[field].push_back(id);
  auto& set = glob != nullptr ? f.globs : needle != nullptr ? f.contains : f.regexes;
  (glob != nullptr ? f.glob_ids : needle != nullptr ? f.contains_ids : f.regex_ids).push_back(id);
  if (f.one_by_one) return id;
  if (!set) {
    if (regex != nullptr) {
      set = std::make_unique<RE2::Set>(regex->options(), RE2::UNANCHORED);
    } else {
      set = std::make_unique<RE2::Set>(set_options(), glob != nullptr ? RE2::ANCHOR_BOTH : RE2::UNANCHORED);
    }
  }
  // The glob as a regex, the substring quoted, the regex as given: RE2 took each already or
  // should; if it does not, this field's patterns are all matched one by one instead.
  const std::string pattern = glob != nullptr     ? glob_to_regex(glob->pattern())
                              : needle != nullptr ? RE2::QuoteMeta(*needle)
                                                  : regex->pattern();
  if (set->Add(pattern, nullptr) < 0) {
    f.one_by_one = true;
    f.globs.reset();
    f.contains.reset();
    f.regexes.reset();
  }
  return id;
}

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
        c.kind = Check::Kind::ancestor;  // several texts per event: its globs one by one
        c.cost = 5;
      } else {
        constexpr Field kFieldOf[] = {kImage,       kArgv0,       kComm,        kCwd,   kUser,
                                      kParentImage, kParentImage, kContainerId, kCgroup};  // ancestor_image unused
        c.kind = Check::Kind::field;
        c.field = kFieldOf[static_cast<std::size_t>(text->field)];
        c.cost = 2;
        for (const GlobPattern& glob : text->globs) c.ids.push_back(add_pattern(c.field, &glob, nullptr));
      }
    } else if (const auto* line = std::get_if<CommandLineCondition>(&condition)) {
      c.field = kCommandLine;
      for (const GlobPattern& glob : line->globs) c.ids.push_back(add_pattern(kCommandLine, &glob, nullptr));
      for (const std::string& needle : line->contains) c.ids.push_back(add_pattern(kCommandLine, nullptr, &needle));
      for (const auto& re : line->regexes) c.ids.push_back(add_pattern(kCommandLine, nullptr, nullptr, re.get()));
      c.kind = Check::Kind::field;
      c.cost = 3;
    }
    compiled.checks.push_back(std::move(c));
  }
  std::stable_sort(compiled.checks.begin(), compiled.checks.end(),
                   [](const Check& a, const Check& b) { return a.cost < b.cost; });
  return compiled;
}

// A rule whose checks include one on a field is tried only when that field hit one of the
// check's patterns: most rules are then never tried for most events.
void RuleSet::index_anchor(CompiledRule& rule, std::uint32_t index) {
  for (const Check& c : rule.checks) {
    if (c.kind != Check::Kind::field) continue;
    rule.anchored = true;
    for (int id : c.ids) candidates_of_[static_cast<std::size_t>(id)].push_back(index);
    const std::uint32_t kinds = rule.rule->event_kinds;
    if (!anchor_field_[c.field]) {
      anchor_kinds_[c.field] = kinds;
    } else if (anchor_kinds_[c.field] != 0) {
      anchor_kinds_[c.field] = kinds == 0 ? 0 : anchor_kinds_[c.field] | kinds;
    }
    anchor_field_[c.field] = true;
    return;
  }
}

void RuleSet::compile() {
  for (const Rule& rule : rules_.include) include_.push_back(compile_rule(rule));
  for (const Rule& rule : rules_.exclude) exclude_.push_back(compile_rule(rule));
  include_matches_.assign(include_.size(), 0);
  exclude_matches_.assign(exclude_.size(), 0);
  candidates_of_.resize(glob_of_.size());
  std::uint32_t index = 0;
  for (CompiledRule& rule : include_) index_anchor(rule, index++);
  for (CompiledRule& rule : exclude_) index_anchor(rule, index++);
  candidate_.assign(index, 0);
  for (FieldPatterns& f : fields_) {
    // A Set that does not compile (out of memory) is dropped: its patterns are then matched
    // one by one, as GlobPattern and find do, with the same result.
    if ((f.globs && !f.globs->Compile()) || (f.contains && !f.contains->Compile()) ||
        (f.regexes && !f.regexes->Compile())) {
      f.one_by_one = true;
      f.globs.reset();
      f.contains.reset();
      f.regexes.reset();
    }
  }
  hit_.assign(glob_of_.size(), 0);
  matched_.reserve(glob_of_.size());
}

bool RuleSet::admit(Event& event) {
  event.rules.clear();
  if (event.kind == EventKind::lost) return true;  // rules never hide that records were dropped
  joined_ready_ = false;
  scanned_.fill(false);
  find_candidates(event);
  for (std::size_t i = 0; i < include_.size(); ++i) {
    if ((!include_[i].anchored || candidate_[i] != 0) && matches(include_[i], event)) {
      event.rules.push_back(include_[i].rule->name);
      ++include_matches_[i];
    }
  }
  if (!include_.empty() && event.rules.empty()) return false;
  for (std::size_t i = 0; i < exclude_.size(); ++i) {
    if ((!exclude_[i].anchored || candidate_[include_.size() + i] != 0) && matches(exclude_[i], event)) {
      ++exclude_matches_[i];
      return false;
    }
  }
  return true;
}

void RuleSet::find_candidates(const Event& event) {
  std::fill(candidate_.begin(), candidate_.end(), 0);
  for (std::size_t f = 0; f < kFields; ++f) {
    if (!anchor_field_[f]) continue;
    if (anchor_kinds_[f] != 0 && (anchor_kinds_[f] & kind_bit(event.kind)) == 0) continue;
    const auto field = static_cast<Field>(f);
    scan(field, event);
    for (int id : field_ids_[field]) {
      if (hit_[static_cast<std::size_t>(id)] == 0) continue;
      for (std::uint32_t rule : candidates_of_[static_cast<std::size_t>(id)]) candidate_[rule] = 1;
    }
  }
}

bool RuleSet::matches(const CompiledRule& rule, const Event& event) {
  const std::uint32_t kinds = rule.rule->event_kinds;
  if (kinds != 0 && (kinds & kind_bit(event.kind)) == 0) return false;
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
      return std::any_of(c.ids.begin(), c.ids.end(), [&](int id) { return hit_[static_cast<std::size_t>(id)] != 0; });
    case Check::Kind::ancestor: {
      const auto& t = std::get<TextCondition>(*c.condition);
      const ProcessRecord* p = first_ancestor(event);
      for (std::size_t depth = 0; p != nullptr && depth < ProcessTable::kMaxAncestry; ++depth) {
        if (any_glob(t.globs, p->image)) return true;
        p = table_.parent_of(*p);
      }
      return false;
    }
  }
  return false;
}

// Marks the ids of every pattern of `field` the event's text matches: one pass per Set.
void RuleSet::scan(Field field, const Event& event) {
  scanned_[field] = true;
  for (int id : field_ids_[field]) hit_[static_cast<std::size_t>(id)] = 0;
  const std::optional<std::string_view> text = field_text(field, event);
  if (!text) return;  // not known for this event: no condition on it matches
  const re2::StringPiece piece(text->data(), text->size());
  const FieldPatterns& f = fields_[field];
  auto mark = [&](const std::unique_ptr<RE2::Set>& set, const std::vector<int>& ids) {
    if (ids.empty()) return;
    if (set) {
      // Most texts hit nothing: asked first without a result list, which RE2 allocates.
      RE2::Set::ErrorInfo error{};
      if (!set->Match(piece, nullptr, &error) && error.kind == RE2::Set::kNoError) return;
      if (error.kind == RE2::Set::kNoError && set->Match(piece, &matched_, &error)) {
        for (int local : matched_) hit_[static_cast<std::size_t>(ids[static_cast<std::size_t>(local)])] = 1;
        return;
      }
    }
    // No Set, or its DFA ran out of memory: one pattern at a time, with the same result.
    for (int id : ids) {
      const auto i = static_cast<std::size_t>(id);
      bool hit = false;
      if (glob_of_[i] != nullptr) {
        hit = glob_of_[i]->matches(*text, scratch_);
      } else if (needle_of_[i] != nullptr) {
        hit = text->find(*needle_of_[i]) != std::string_view::npos;
      } else {
        hit = RE2::PartialMatch(piece, *regex_of_[i]);
      }
      hit_[i] = hit ? 1 : 0;
    }
  };
  mark(f.globs, f.glob_ids);
  mark(f.contains, f.contains_ids);
  mark(f.regexes, f.regex_ids);
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
      if (const ProcessRecord* p = known_process(table_, event); p != nullptr && !p->argv.empty()) {
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

bool RuleSet::any_glob(const std::vector<GlobPattern>& globs, std::string_view text) {
  return std::any_of(globs.begin(), globs.end(), [&](const GlobPattern& glob) { return glob.matches(text, scratch_); });
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
