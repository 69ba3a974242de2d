// --argv TEXT, --argv-regex RE and --image GLOB on a schema-2 store: which texts of `strings`
// match, as an SQL subquery. Candidates come from the trigram index (strings_fts: case-insensitive,
// so a superset) and are verified exactly (instr, GLOB, RE2); the texts it does not hold (plain = 0:
// not valid UTF-8) are always scanned. Exactly the rows a scan of every event would give.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

struct sqlite3;

namespace re2 {
class RE2;
}

namespace procsentry {

// The FTS5 query every text containing `needle` matches: single-trigram terms ANDed (detail=none
// has no phrases), at most kMaxTrigrams spread over it. Nothing when the index cannot answer:
// fewer than 3 characters, or not what the index holds (valid UTF-8 without NUL).
std::optional<std::string> substring_fts_query(std::string_view needle);
constexpr std::size_t kMaxTrigrams = 16;

// The same for a GLOB: its literal runs (outside *, ? and [...]) of 3 characters or more.
std::optional<std::string> glob_fts_query(std::string_view glob);

// --argv-regex: the RE2, and what re2::FilteredRE2 (atoms of 3 bytes or more) says a matching
// text must contain.
class RegexSearch {
 public:
  static Result<std::unique_ptr<RegexSearch>> compile(const std::string& pattern);
  ~RegexSearch();
  // Atoms as one FTS5 query (each atom's trigrams ANDed, the atoms ORed): every matching text
  // contains one of them. Nothing when no atom filters (every text is a candidate), or when an
  // atom is not ASCII (RE2 lowers it by its own tables, the index folds case by SQLite's).
  const std::optional<std::string>& fts_query() const { return fts_query_; }
  bool matches(std::string_view text) const;

 private:
  explicit RegexSearch(std::unique_ptr<re2::RE2> re);
  std::unique_ptr<re2::RE2> re_;
  std::optional<std::string> fts_query_;
};

// Registers procsentry_regex(text) on `db`: 1 when `search` matches the text.
void register_regex_function(sqlite3* db, const RegexSearch* search);

// The SQL (a SELECT of strings ids) of the texts matching, with `bind` giving the placeholder
// of each text value it needs. `condition` is the exact test on s.text (e.g. "instr(s.text, ?1) > 0"),
// `fts_query` the candidates' FTS5 query, nothing to scan every text.
std::string matching_strings_sql(const std::string& condition, const std::optional<std::string>& fts_placeholder);

}  // namespace procsentry
