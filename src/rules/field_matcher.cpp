#include "rules/field_matcher.h"

#include <algorithm>

#include "rules/glob_regex.h"

namespace procsentry {
namespace {

RE2::Options byte_options() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);  // bytes, as fnmatch and memmem see them
  options.set_log_errors(false);
  options.set_dot_nl(true);
  return options;
}

// A substring can join the user's regexes (UTF-8) when it means the same bytes there: the
// options change nothing a quoted literal means, and RE2 reads it as UTF-8 (an unanchored
// Set's leading .* is any byte in either encoding).
bool joins_regexes(const std::string& needle, const RE2::Options* options) {
  if (options == nullptr || options->encoding() != RE2::Options::EncodingUTF8 || !options->case_sensitive() ||
      options->literal() || options->never_nl() || options->posix_syntax()) {
    return false;
  }
  RE2::Options probe_options = *options;
  probe_options.set_log_errors(false);
  return RE2(RE2::QuoteMeta(needle), probe_options).ok();
}

}  // namespace

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

// Indexes the literals of `kind`; when they have too many lengths, they go to the Set as the
// globs they came from.
void FieldMatcher::index_literals(Kind kind, LiteralIndex& index) {
  std::vector<std::pair<std::string_view, int>> literals;
  for (std::size_t i = 0; i < patterns_.size(); ++i) {
    if (patterns_[i].kind == kind) literals.emplace_back(patterns_[i].literal, static_cast<int>(i));
  }
  if (index.build(literals)) return;
  for (Pattern& p : patterns_) {
    if (p.kind == kind) p.kind = Kind::glob;
  }
}

void FieldMatcher::try_alone(Pattern& p) {
  p.alone = std::make_unique<RE2>(glob_to_regex(p.glob->pattern()), byte_options());
  if (!p.alone->ok()) p.alone.reset();  // matched by the glob itself (fnmatch) instead
}

void FieldMatcher::compile() {
  index_of_.clear();
  index_literals(Kind::exact, exact_);
  index_literals(Kind::prefix, prefixes_);
  index_literals(Kind::suffix, suffixes_);
  const RE2::Options* regex_options = nullptr;
  for (const Pattern& p : patterns_) {
    if (p.kind == Kind::regex && regex_options == nullptr) regex_options = &p.regex->options();
  }
  for (std::size_t i = 0; i < patterns_.size(); ++i) {
    Pattern& p = patterns_[i];
    const int id = static_cast<int>(i);
    if (p.kind == Kind::any) any_ids_.push_back(id);
    if (p.kind == Kind::substring) {
      // Where the text is read for regexes anyway, a substring is read in the same pass.
      (joins_regexes(p.literal, regex_options) ? regex_ids_ : bytes_ids_).push_back(id);
    }
    if (p.kind == Kind::glob) {
      try_alone(p);
      bytes_ids_.push_back(id);
    }
    if (p.kind == Kind::regex) regex_ids_.push_back(id);
  }
  if (!bytes_ids_.empty()) bytes_set_ = build_set(byte_options(), bytes_ids_);
  if (regex_options != nullptr) regex_set_ = build_set(*regex_options, regex_ids_);
  state_.assign(patterns_.size(), kMiss);
  hits_.reserve(patterns_.size());
}

// The patterns as one Set, or null when RE2 refuses one of them or the whole (out of memory):
// then each is tried alone, with the same result.
std::unique_ptr<RE2::Set> FieldMatcher::build_set(const RE2::Options& options, const std::vector<int>& ids) const {
  auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (int id : ids) {
    const Pattern& p = patterns_[static_cast<std::size_t>(id)];
    std::string pattern;
    if (p.kind == Kind::regex) {
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
  exact_.find(text_, hit);
  prefixes_.find(text_, hit);
  suffixes_.find(text_, hit);
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
