#include "rules/field_matcher.h"

#include <algorithm>
#include <cstring>

#include "rules/glob_regex.h"

namespace procsentry {
namespace {

// More distinct lengths than this and a text would be hashed that many times: such prefixes
// (or suffixes) go to the Set instead, which reads the text once.
constexpr std::size_t kMaxLiteralLengths = 8;

RE2::Options byte_options() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);  // bytes, as fnmatch and memmem see them
  options.set_log_errors(false);
  options.set_dot_nl(true);
  return options;
}

std::uint64_t load8(const char* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The length and the first, middle and last 8 bytes: as cheap for a long path as for a short
// one, and paths that differ tend to differ at their ends (equal hashes are compared whole).
std::uint64_t ends_hash(std::string_view s) {
  std::uint64_t head = 0, middle = 0, tail = 0;
  if (s.size() >= 8) {
    head = load8(s.data());
    middle = load8(s.data() + s.size() / 2 - 4);
    tail = load8(s.data() + s.size() - 8);
  } else {
    std::memcpy(&head, s.data(), s.size());
  }
  // Multiply and fold, as a 64-bit finalizer does: every input bit moves the result.
  std::uint64_t h =
      (head ^ (middle * 0xff51afd7ed558ccdull) ^ (tail * 0x9e3779b97f4a7c15ull) ^ s.size()) * 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

}  // namespace

void FieldMatcher::LiteralIndex::build(const std::vector<std::pair<std::string_view, int>>& literals) {
  std::size_t capacity = 8;
  while (capacity < literals.size() * 2) capacity *= 2;
  slots_.assign(capacity, Slot{});
  for (const auto& [literal, id] : literals) {
    const std::uint64_t hash = ends_hash(literal);
    std::size_t i = hash & (capacity - 1);
    while (slots_[i].id >= 0) i = (i + 1) & (capacity - 1);
    slots_[i] = Slot{hash, literal, id};
  }
}

int FieldMatcher::LiteralIndex::find(std::string_view text) const {
  const std::uint64_t hash = ends_hash(text);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask; slots_[i].id >= 0; i = (i + 1) & mask) {
    if (slots_[i].hash == hash && slots_[i].literal == text) return slots_[i].id;
  }
  return -1;
}

int FieldMatcher::add(Kind kind, std::string literal, const GlobPattern* glob, const RE2* regex) {
  const int next = static_cast<int>(patterns_.size());
  if (kind == Kind::regex) {  // each its own (with its own options)
    patterns_.push_back(Pattern{kind, std::move(literal), glob, regex, nullptr});
    return next;
  }
  // The same pattern when the kind and the text are.
  std::string key = kind == Kind::glob ? glob->pattern() : literal;
  auto [it, added] = index_of_.try_emplace({kind, std::move(key)}, next);
  if (added) patterns_.push_back(Pattern{kind, std::move(literal), glob, regex, nullptr});
  return it->second;
}

int FieldMatcher::add_glob(const GlobPattern& glob) {
  switch (glob.shape()) {
    case GlobPattern::Shape::exact:
      return add(Kind::exact, glob.head(), &glob, nullptr);
    case GlobPattern::Shape::prefix:
      return add(Kind::prefix, glob.head(), &glob, nullptr);
    case GlobPattern::Shape::suffix:
      return add(Kind::suffix, glob.tail(), &glob, nullptr);
    case GlobPattern::Shape::middle:
      return add(Kind::substring, glob.head(), nullptr, nullptr);
    case GlobPattern::Shape::any:
      return add(Kind::any, std::string(), nullptr, nullptr);
    case GlobPattern::Shape::prefix_suffix:
    case GlobPattern::Shape::general:
      break;
  }
  return add(Kind::glob, std::string(), &glob, nullptr);
}

int FieldMatcher::add_substring(std::string_view needle) {
  return add(Kind::substring, std::string(needle), nullptr, nullptr);
}

int FieldMatcher::add_regex(const RE2& regex) { return add(Kind::regex, std::string(), nullptr, &regex); }

// Indexes the literals of `kind`; false (nothing indexed) when they have too many lengths.
bool FieldMatcher::index_literals(Kind kind, LiteralIndex& index) {
  for (const Pattern& p : patterns_) {
    if (p.kind == kind) index.lengths.push_back(p.literal.size());
  }
  std::sort(index.lengths.begin(), index.lengths.end());
  index.lengths.erase(std::unique(index.lengths.begin(), index.lengths.end()), index.lengths.end());
  if (kind != Kind::exact && index.lengths.size() > kMaxLiteralLengths) {
    index.lengths.clear();
    return false;
  }
  std::vector<std::pair<std::string_view, int>> literals;
  for (std::size_t i = 0; i < patterns_.size(); ++i) {
    if (patterns_[i].kind == kind) literals.emplace_back(patterns_[i].literal, static_cast<int>(i));
  }
  if (!literals.empty()) index.build(literals);
  return true;
}

void FieldMatcher::try_alone(Pattern& p) {
  p.alone = std::make_unique<RE2>(glob_to_regex(p.glob->pattern()), byte_options());
  if (!p.alone->ok()) p.alone.reset();  // matched by the glob itself (fnmatch) instead
}

void FieldMatcher::compile() {
  index_of_.clear();
  index_literals(Kind::exact, exact_);
  for (Kind kind : {Kind::prefix, Kind::suffix}) {
    if (index_literals(kind, kind == Kind::prefix ? prefixes_ : suffixes_)) continue;
    for (Pattern& p : patterns_) {
      if (p.kind == kind) p.kind = Kind::glob;  // to the Set, as the glob it came from
    }
  }
  for (std::size_t i = 0; i < patterns_.size(); ++i) {
    Pattern& p = patterns_[i];
    const int id = static_cast<int>(i);
    if (p.kind == Kind::any) any_ids_.push_back(id);
    if (p.kind == Kind::substring) bytes_ids_.push_back(id);
    if (p.kind == Kind::glob) {
      try_alone(p);
      bytes_ids_.push_back(id);
    }
    if (p.kind == Kind::regex) regex_ids_.push_back(id);
  }
  if (!bytes_ids_.empty()) bytes_set_ = build_set(byte_options(), bytes_ids_, true);
  if (!regex_ids_.empty()) {
    const RE2::Options& options = patterns_[static_cast<std::size_t>(regex_ids_.front())].regex->options();
    regex_set_ = build_set(options, regex_ids_, false);
  }
  state_.assign(patterns_.size(), kMiss);
  hits_.reserve(patterns_.size());
}

// The patterns as one Set, or null when RE2 refuses one of them or the whole (out of memory):
// then each is tried alone, with the same result.
std::unique_ptr<RE2::Set> FieldMatcher::build_set(const RE2::Options& options, const std::vector<int>& ids,
                                                  bool bytes) const {
  auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (int id : ids) {
    const Pattern& p = patterns_[static_cast<std::size_t>(id)];
    std::string pattern;
    if (!bytes) {
      pattern = p.regex->pattern();
    } else if (p.kind == Kind::substring) {
      pattern = RE2::QuoteMeta(p.literal);
    } else {
      pattern = "\\A(?:" + glob_to_regex(p.glob->pattern()) + ")\\z";  // a glob is anchored at both ends
    }
    if (set->Add(pattern, nullptr) < 0) return nullptr;
  }
  if (!set->Compile()) return nullptr;
  return set;
}

bool FieldMatcher::set_maybe(const RE2::Set* set, std::string_view text) {
  if (set == nullptr) return true;
  RE2::Set::ErrorInfo error{};
  // Without a result list: RE2 stops at the first match and allocates nothing.
  const bool matched = set->Match(re2::StringPiece(text.data(), text.size()), nullptr, &error);
  return matched || error.kind != RE2::Set::kNoError;  // its DFA ran out of memory: unknown
}

void FieldMatcher::scan(const std::string_view* text) {
  std::fill(state_.begin(), state_.end(), kMiss);
  hits_.clear();
  bytes_maybe_ = regex_maybe_ = false;
  if (text == nullptr) return;  // not known for this event: no pattern matches
  text_ = *text;
  auto hit = [&](int id) {
    state_[static_cast<std::size_t>(id)] = kHit;
    hits_.push_back(id);
  };
  for (int id : any_ids_) hit(id);
  if (!exact_.empty()) {
    if (const int id = exact_.find(text_); id >= 0) hit(id);
  }
  for (std::size_t length : prefixes_.lengths) {
    if (length > text_.size()) break;
    if (const int id = prefixes_.find(text_.substr(0, length)); id >= 0) hit(id);
  }
  for (std::size_t length : suffixes_.lengths) {
    if (length > text_.size()) break;
    if (const int id = suffixes_.find(text_.substr(text_.size() - length)); id >= 0) hit(id);
  }
  if (!bytes_ids_.empty() && (bytes_maybe_ = set_maybe(bytes_set_.get(), text_))) {
    for (int id : bytes_ids_) state_[static_cast<std::size_t>(id)] = kUnknown;
  }
  if (!regex_ids_.empty() && (regex_maybe_ = set_maybe(regex_set_.get(), text_))) {
    for (int id : regex_ids_) state_[static_cast<std::size_t>(id)] = kUnknown;
  }
}

bool FieldMatcher::matches(int id) {
  const auto i = static_cast<std::size_t>(id);
  if (state_[i] != kUnknown) return state_[i] == kHit;
  Pattern& p = patterns_[i];
  const re2::StringPiece piece(text_.data(), text_.size());
  bool hit = false;
  if (p.kind == Kind::substring) {
    hit = text_.find(p.literal) != std::string_view::npos;
  } else if (p.kind == Kind::regex) {
    hit = RE2::PartialMatch(piece, *p.regex);
  } else if (p.alone != nullptr) {
    hit = RE2::FullMatch(piece, *p.alone);
  } else {
    hit = p.glob->matches(text_, scratch_);
  }
  state_[i] = hit ? kHit : kMiss;
  return hit;
}

}  // namespace procsentry
