#include "store/text_search.h"

#include <fmt/format.h>
#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <sqlite3.h>

#include <algorithm>
#include <set>

#include "store/store_functions.h"

namespace procsentry {
namespace {

// A term of an FTS5 query string: in double quotes, a quote doubled.
std::string fts_term(std::string_view text) {
  std::string term = "\"";
  for (char c : text) {
    term += c;
    if (c == '"') term += '"';
  }
  term += '"';
  return term;
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The trigrams (3 characters, as the tokenizer cuts them) of valid UTF-8 text, in order.
void add_trigrams(std::string_view text, std::vector<std::string>& out) {
  std::vector<std::size_t> starts;  // byte offset of each character, then the end
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_continuation(text[i])) starts.push_back(i);
  }
  starts.push_back(text.size());
  for (std::size_t c = 0; c + 3 < starts.size(); ++c) {
    out.emplace_back(text.substr(starts[c], starts[c + 3] - starts[c]));
  }
}

// The trigrams ANDed: distinct ones, at most kMaxTrigrams spread from the first to the last (a
// 40 KiB argument would make a query of 40,000 terms; fewer still give few candidates).
std::optional<std::string> all_of(const std::vector<std::string>& trigrams) {
  std::vector<std::string> distinct;
  std::set<std::string_view> seen;
  for (const std::string& t : trigrams) {
    if (seen.insert(t).second) distinct.push_back(t);
  }
  if (distinct.empty()) return std::nullopt;
  std::string query;
  const std::size_t n = distinct.size();
  const std::size_t take = std::min(n, kMaxTrigrams);
  for (std::size_t k = 0; k < take; ++k) {
    const std::size_t i = take == 1 ? 0 : k * (n - 1) / (take - 1);
    if (k != 0) query += " AND ";
    query += fts_term(distinct[i]);
  }
  return query;
}

}  // namespace

std::optional<std::string> substring_fts_query(std::string_view needle) {
  if (!store_string_plain(needle)) return std::nullopt;
  std::vector<std::string> trigrams;
  add_trigrams(needle, trigrams);
  return all_of(trigrams);
}

std::optional<std::string> glob_fts_query(std::string_view glob) {
  if (!store_string_plain(glob)) return std::nullopt;
  std::vector<std::string> trigrams;
  std::size_t run = 0;  // start of the current literal run
  auto end_run = [&](std::size_t at) { add_trigrams(glob.substr(run, at - run), trigrams); };
  for (std::size_t i = 0; i < glob.size();) {
    const char c = glob[i];
    if (c == '*' || c == '?') {
      end_run(i);
      run = ++i;
    } else if (c == '[') {
      // SQLite's GLOB: [...], [^...], a ']' first in the set is a member.
      end_run(i);
      std::size_t j = i + 1;
      if (j < glob.size() && glob[j] == '^') ++j;
      if (j < glob.size() && glob[j] == ']') ++j;
      while (j < glob.size() && glob[j] != ']') ++j;
      i = std::min(j + 1, glob.size());
      run = i;
    } else {
      ++i;
    }
  }
  end_run(glob.size());
  return all_of(trigrams);
}

RegexSearch::RegexSearch(std::unique_ptr<re2::RE2> re) : re_(std::move(re)) {}
RegexSearch::~RegexSearch() = default;

Result<std::unique_ptr<RegexSearch>> RegexSearch::compile(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(pattern, options);
  if (!re->ok()) return Error{fmt::format("--argv-regex: not a regular expression (RE2): {}", re->error())};
  std::unique_ptr<RegexSearch> search(new RegexSearch(std::move(re)));
  re2::FilteredRE2 filter(3);
  int id = 0;
  if (filter.Add(pattern, options, &id) != RE2::NoError) return search;
  std::vector<std::string> atoms;
  filter.Compile(&atoms);
  // Unfiltered: a text with none of the atoms may still match (e.g. "a.c", "x|.*").
  std::vector<int> without_atoms;
  filter.AllPotentials({}, &without_atoms);
  if (!without_atoms.empty() || atoms.empty()) return search;
  std::string query;
  for (const std::string& atom : atoms) {
    const bool ascii = std::all_of(atom.begin(), atom.end(), [](char c) { return (c & 0x80) == 0; });
    std::vector<std::string> trigrams;
    add_trigrams(atom, trigrams);
    auto all = all_of(trigrams);
    if (!ascii || !all) return search;
    if (!query.empty()) query += " OR ";
    query += "(" + *all + ")";
  }
  search->fts_query_ = std::move(query);
  return search;
}

bool RegexSearch::matches(std::string_view text) const {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

void register_regex_function(sqlite3* db, const RegexSearch* search) {
  auto call = [](sqlite3_context* context, int, sqlite3_value** argv) {
    const auto* s = static_cast<const RegexSearch*>(sqlite3_user_data(context));
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
      sqlite3_result_int(context, 0);
      return;
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const auto size = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
    sqlite3_result_int(context, s->matches(std::string_view(text, size)) ? 1 : 0);
  };
  sqlite3_create_function_v2(db, "procsentry_regex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                             const_cast<RegexSearch*>(search), call, nullptr, nullptr, nullptr);
}

std::string matching_strings_sql(const std::string& condition, const std::optional<std::string>& fts_placeholder) {
  if (!fts_placeholder) return fmt::format("SELECT s.id FROM strings s WHERE {}", condition);
  // The index holds the plain texts; the others (plain = 0, a partial index) are scanned.
  return fmt::format(
      "SELECT s.id FROM strings s WHERE s.id IN (SELECT rowid FROM strings_fts WHERE strings_fts MATCH {0}) AND "
      "s.plain = 1 AND {1} UNION ALL SELECT s.id FROM strings s WHERE s.plain = 0 AND {1}",
      *fts_placeholder, condition);
}

}  // namespace procsentry
