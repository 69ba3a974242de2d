// Every pattern the rules put on one text field (an image, the command line, ...), each
// kept once however many rules name it, and which of them an event's text matches. Exact,
// prefix and suffix globs are hash look-ups (LiteralIndex); the other
// globs and the substrings share one RE2::Set (bytes), the user's regexes another (UTF-8),
// which also takes the substrings when there is one (one pass over the text, not two).
// A Set is asked only whether anything matched: when it did, its patterns are tried one by
// one, and only those a rule asks about (RE2 allocates to say which of a Set's matched).
// Matching allocates nothing once the RE2 caches are warm. One event at a time: the
// answers hold until the next scan().
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/glob_pattern.h"
#include "rules/literal_index.h"

namespace procsentry {

class FieldMatcher {
 public:
  FieldMatcher() = default;
  FieldMatcher(const FieldMatcher&) = delete;
  FieldMatcher& operator=(const FieldMatcher&) = delete;

  // Each returns the pattern's index in this field; the same pattern added twice (a glob
  // "*x*" and a substring "x" are the same) gets the same index. Before compile() only.
  int add_glob(const GlobPattern& glob);
  int add_substring(std::string_view needle);
  int add_regex(const RE2& regex);  // must outlive this
  void compile();
  std::size_t size() const { return patterns_.size(); }

  // Matches `text` (nullptr: the event has no such text, nothing matches). `text` must stay
  // valid until the next scan. Then hits() are the patterns known to match, and each Set
  // that may have matched names the patterns it holds (tried on demand by matches()).
  void scan(const std::string_view* text);
  const std::vector<int>& hits() const { return hits_; }
  bool bytes_set_maybe() const { return bytes_maybe_; }
  bool regex_set_maybe() const { return regex_maybe_; }
  const std::vector<int>& bytes_set_patterns() const { return bytes_ids_; }
  const std::vector<int>& regex_set_patterns() const { return regex_ids_; }
  bool matches(int pattern);

 private:
  enum class Kind : std::uint8_t { exact, prefix, suffix, any, substring, glob, regex };
  enum State : std::uint8_t { kMiss, kHit, kUnknown };
  struct Pattern {
    Kind kind;
    std::string literal;         // exact, prefix, suffix, substring
    const GlobPattern* glob;     // glob: matched alone by `alone`
    const RE2* regex;            // regex
    std::unique_ptr<RE2> alone;  // glob: its byte-exact regex, when RE2 took it
  };
  int add(Kind kind, std::string literal, const GlobPattern* glob, const RE2* regex);
  void index_literals(Kind kind, LiteralIndex& index);
  std::unique_ptr<RE2::Set> build_set(const RE2::Options& options, const std::vector<int>& ids) const;
  static void try_alone(Pattern& p);
  static bool set_maybe(const RE2::Set* set, std::string_view text);

  std::vector<Pattern> patterns_;
  std::map<std::pair<Kind, std::string>, int> index_of_;  // compile time only
  std::vector<int> any_ids_, bytes_ids_, regex_ids_;
  LiteralIndex exact_{LiteralIndex::Where::whole}, prefixes_{LiteralIndex::Where::start},
      suffixes_{LiteralIndex::Where::end};
  std::unique_ptr<RE2::Set> bytes_set_, regex_set_;  // null: every pattern tried alone
  // Per scan.
  std::vector<std::uint8_t> state_;
  std::vector<int> hits_;
  std::string_view text_;
  bool bytes_maybe_ = false, regex_maybe_ = false;
  std::string scratch_;
};

}  // namespace procsentry
