#include "store/event_query.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>

#include "core/text_escape.h"
#include "core/time_format.h"
#include "store/read_only_store.h"
#include "store/repeat_marks.h"
#include "store/store_chunks.h"
#include "store/text_search.h"

namespace procsentry {
namespace {

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

// SQLite's own allocations in a query (page cache, sorter): well under the 32 MiB peak RSS a
// query may take; past it SQLite frees cache pages rather than grow.
constexpr std::int64_t kQueryHeapBytes = 16 << 20;
// Past one event in this many kept by a text filter, walking the time index beats sorting them.
constexpr int kDenseFraction = 8;
// Schema 3: from one event in this many, the time index walked. Its first rows come at once
// (each match about 32 rows apart); gathering and sorting 1 M matches of 10 M took 12-22 s
// before the first row (README, "History at scale").
constexpr int kChunkedDenseFraction = 32;
// Below that, from one event in this many: gathering and sorting takes long enough (1 in 110:
// `--user carol` 2.8-3.2 s on 10 M) that the first rows come from the time index walked
// (QueryOptions::first_rows_ms; 17 ms), the rest from the gathered ones that follow them. Walking
// it all took 6.0-6.5 s.
constexpr int kHeadFraction = 8192;
// A lookup by key probes each chunk for each of its strings. One probe costs about what reading 4
// of an index's entries does (10 M store: 0.23 against 0.053 us): past a chunk's ids / 4
// strings, the chunks' entries are read in turn and tested instead (`--count --argv -O2`, 22,628
// strings: 27.6 M probes, 6.4 s, against 0.5 s; README, "History at scale").
constexpr int kEntriesPerProbe = 4;
// A count driven by schema 5's marked rows reads, for each, its block's rows from it (~128): past
// one mark in this many ids, testing every row once costs less (0.35 against ~0.17 us a row;
// `--count --image '/usr/*'`, ~72 marks a block: 32 s against 4.6 s).
constexpr int kCountedMarkFraction = 64;

void append_row_json(std::string& out, sqlite3_stmt* stmt) {
  out += '{';
  for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
    if (i != 0) out += ',';
    append_json_string(out, sqlite3_column_name(stmt, i));
    out += ':';
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        out += std::to_string(sqlite3_column_int64(stmt, i));
        break;
      case SQLITE_FLOAT:
        out += fmt::format("{}", sqlite3_column_double(stmt, i));
        break;
      case SQLITE_NULL:
        out += "null";
        break;
      default: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        append_json_string(out, std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
      }
    }
  }
  out += "}\n";
}

std::string_view column_text(sqlite3_stmt* stmt, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return text == nullptr ? std::string_view()
                         : std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
}

constexpr std::string_view kTableHeader =
    "TIME                            EVENT       PID     PPID    USER     IMAGE                                    "
    "ARGS";

// One table line from the selected columns: time_ns, event, pid, ppid, user, uid, image, argv.
void append_row_table(std::string& out, sqlite3_stmt* stmt, Rfc3339Formatter& time) {
  time.append(out, sqlite3_column_int64(stmt, 0));
  out += "  ";
  std::string cell;
  auto cell_of = [&](std::string_view text, std::size_t width) {
    cell.clear();
    append_terminal_escaped(cell, text);
    out += cell;
    for (std::size_t w = cell.size(); w < width; ++w) out += ' ';
    out += ' ';
  };
  cell_of(column_text(stmt, 1), 11);
  cell_of(sqlite3_column_type(stmt, 2) == SQLITE_NULL ? "" : std::to_string(sqlite3_column_int64(stmt, 2)), 7);
  cell_of(sqlite3_column_type(stmt, 3) == SQLITE_NULL ? "" : std::to_string(sqlite3_column_int64(stmt, 3)), 7);
  std::string_view user = column_text(stmt, 4);
  std::string uid = sqlite3_column_type(stmt, 5) == SQLITE_NULL ? "" : std::to_string(sqlite3_column_int64(stmt, 5));
  cell_of(user.empty() ? std::string_view(uid) : user, 8);
  cell_of(column_text(stmt, 6), 40);
  append_terminal_escaped(out, column_text(stmt, 7));
  out += '\n';
}

}  // namespace

namespace {

// `text` as a whole in `format` (std::get_time: strptime and timegm are not on Windows).
bool parse_whole(const std::string& text, const char* format, std::tm& tm) {
  tm = std::tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, format);
  return !in.fail() && in.peek() == std::char_traits<char>::eof();
}

std::time_t utc_seconds(const std::tm& tm) {
  using namespace std::chrono;
  const sys_days date{year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                      day{static_cast<unsigned>(tm.tm_mday)}};
  return static_cast<std::time_t>(date.time_since_epoch().count()) * 86'400 + tm.tm_hour * 3'600 + tm.tm_min * 60 +
         tm.tm_sec;
}

}  // namespace

Result<std::int64_t> parse_time(const std::string& text, std::int64_t now_ns) {
  if (auto age = parse_duration(text)) return now_ns - *age;
  std::tm tm{};
  bool utc = !text.empty() && text.back() == 'Z';
  std::string body = utc ? text.substr(0, text.size() - 1) : text;
  for (char& c : body) {
    if (c == 'T') c = ' ';
  }
  if (!parse_whole(body, "%Y-%m-%d %H:%M:%S", tm) && !parse_whole(body, "%Y-%m-%d %H:%M", tm) &&
      !parse_whole(body, "%Y-%m-%d", tm)) {
    return Error{
        fmt::format("'{}' is not a time (e.g. 2026-11-24T03:00:00Z, '2026-11-24 03:00' local, or 3h ago)", text)};
  }
  tm.tm_isdst = -1;
  std::time_t seconds = utc ? utc_seconds(tm) : std::mktime(&tm);
  return static_cast<std::int64_t>(seconds) * 1'000'000'000;
}

namespace {

// A filter by string: event_rows' column, the SQL of the strings' ids it keeps, and whether a
// lookup reads its index's chunks in turn rather than probing them per string (kEntriesPerProbe).
struct ByStrings {
  std::string column;
  std::string strings;
  bool scanned = false;
};

std::string strings_condition(const ByStrings& filter, std::string_view row) {
  return key_condition(fmt::format("{}.{}", row, filter.column), fmt::format("IN ({})", filter.strings),
                       filter.scanned);
}

// The statement of a search (not --sql), with its text values bound in order as ?1, ?2...
struct Search {
  std::string sql;
  std::vector<std::string> text_params;
  // The filters by string (text filters; on schema 3 --user too); schema 5 drives a lookup by one
  // of them. Schema 2 names their rows as "{kDenseMark}id IN (...)", schema 3 as "{kDenseMark}":
  // both settled by choose_text_plan.
  std::vector<ByStrings> by_strings;
  // The filters as conditions on event_rows e.
  std::string text_rows() const {
    std::string all;
    for (const ByStrings& filter : by_strings) all += (all.empty() ? "" : " AND ") + strings_condition(filter, "e");
    return all;
  }
  int schema = 0;
  StoreChunks chunks;  // schema 3: the store's chunks (store_chunks.h)
  IdRange ids;
  bool reverse = false;
  // The first rows' statement (the time index walked), when `sql` gives the rows after the last
  // of them: its (time_ns, id), the statement's last two columns, bound as ?N+1, ?N+2.
  std::string head_sql;
};
constexpr std::string_view kDenseMark = "\x01";
constexpr std::string_view kAfterMark = "\x02";  // where `sql` takes the rows after the head's

std::string replaced(std::string sql, std::string_view mark, std::string_view by) {
  if (const auto at = sql.find(mark); at != std::string::npos) sql.replace(at, mark.size(), by);
  return sql;
}

// Text filters on the `events` view (schema 1), or through `strings` and its trigram index to
// event_rows' ids (schema 2): the same rows either way.
void add_text_filters(const QueryOptions& o, int schema, const RegexSearch* regex, std::string& where, Search& search,
                      const auto& bind_text) {
  if (schema < 2) {
    if (!o.image_glob.empty()) where += " AND image GLOB " + bind_text(o.image_glob);
    if (!o.argv_substring.empty()) where += " AND instr(argv, " + bind_text(o.argv_substring) + ") > 0";
    if (!o.argv_regex.empty()) where += " AND procsentry_regex(argv)";
    return;
  }
  auto by_string = [&](const char* column, const std::string& strings_sql) {
    search.by_strings.push_back({column, strings_sql});
  };
  auto fts = [&](const std::optional<std::string>& query) -> std::optional<std::string> {
    if (!query) return std::nullopt;
    return bind_text(*query);
  };
  if (!o.image_glob.empty()) {
    const auto fts_query = fts(glob_fts_query(o.image_glob));
    by_string("image_id", matching_strings_sql("s.text GLOB " + bind_text(o.image_glob), fts_query));
  }
  if (!o.argv_substring.empty()) {
    const auto fts_query = fts(substring_fts_query(o.argv_substring));
    by_string("argv_id", matching_strings_sql("instr(s.text, " + bind_text(o.argv_substring) + ") > 0", fts_query));
  }
  if (regex != nullptr) {
    const auto fts_query = fts(regex->fts_query());
    by_string("argv_id", matching_strings_sql("procsentry_regex(s.text)", fts_query));
  }
  if (!o.users.empty() && schema >= 3) {  // by user_id's index (the view's user is a lookup per row)
    std::string texts;
    std::string hashes;
    for (const std::string& user : o.users) {
      const std::string value = bind_text(user);
      texts += fmt::format("{}{}", texts.empty() ? "" : ",", value);
      hashes += fmt::format("{}procsentry_hash({})", hashes.empty() ? "" : ",", value);
    }
    by_string("user_id",
              fmt::format("SELECT s.id FROM strings s WHERE s.hash IN ({}) AND s.text IN ({})", hashes, texts));
  }
  if (search.by_strings.empty()) return;
  if (schema >= 3) {
    where += fmt::format(" AND {}", kDenseMark);
  } else {
    where += fmt::format(" AND {}id IN (SELECT e.id FROM event_rows e WHERE {})", kDenseMark, search.text_rows());
  }
}

// Binds the search's text values a statement names (?N: the Nth).
void bind_named_params(sqlite3_stmt* raw, const std::vector<std::string>& params) {
  for (int i = 1; i <= sqlite3_bind_parameter_count(raw); ++i) {
    const char* name = sqlite3_bind_parameter_name(raw, i);  // null: a number below the first named
    if (name == nullptr) continue;
    const std::string& value = params[static_cast<std::size_t>(std::atoi(name + 1) - 1)];
    sqlite3_bind_text(raw, i, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  }
}

// The one integer a planning statement (its text values bound as ?1, ?2...) selects.
Result<std::int64_t> select_integer(sqlite3* db, const std::string& sql, const std::vector<std::string>& params) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Error{fmt::format("query failed: {}", sqlite3_errmsg(db))};
  }
  Statement stmt(raw, sqlite3_finalize);
  bind_named_params(raw, params);
  if (sqlite3_step(raw) != SQLITE_ROW) return Error{fmt::format("query failed: {}", sqlite3_errmsg(db))};
  return sqlite3_column_int64(raw, 0);
}

// Schema 5 indexes image and user on a block's first row with each (repeat_marks.h): without a
// command line filter (which drives by its own index), the image's or else the user's filter
// drives by its marked rows, each read with its block's rows after it. Null: none does.
const ByStrings* marked_driver(const Search& search) {
  auto by = [&](std::string_view column) -> const ByStrings* {
    for (const auto& filter : search.by_strings) {
      if (filter.column == column) return &filter;
    }
    return nullptr;
  };
  if (search.schema < 5 || by("argv_id") != nullptr) return nullptr;
  return by("image_id") != nullptr ? by("image_id") : by("user_id");
}

std::string marked_key(const ByStrings& driver) {
  return driver.column.substr(0, driver.column.size() - 3);  // image_id: image
}

// The ids of the events in `chunks` (an SQL list) the filters by string keep, through the
// chunked indexes.
std::string rows_in_chunks(const Search& search, const StoreChunks& chunks) {
  const auto* driver = marked_driver(search);
  if (driver == nullptr) {
    return fmt::format("SELECT e.id FROM event_rows e WHERE {} AND {}", in_chunks(chunks, "e"), search.text_rows());
  }
  const MarkedRowsSql marked =
      marked_rows_sql(marked_key(*driver), fmt::format("IN ({})", driver->strings), chunks, "e", driver->scanned);
  return fmt::format("SELECT e.id FROM {} WHERE {} AND {}", marked.from, marked.where, search.text_rows());
}

// Schema 3. A filter by string that keeps few events: their ids from the chunked indexes (a probe
// per chunk and string), then a sort of those rows. One that keeps many: the time index walked,
// each row's string ids tested against the (small) set of matching strings: no event ids
// gathered, rows in order at once. Which one: the share of matches among the newest chunks'
// events (at most 131,072), counted up to the bound only. A count: from the chunked indexes.
// Schema 5's marked rows: counted first (index entries), a block's rows read only for a filter
// whose blocks could hold that share.
Result<Ok> choose_chunked_plan(sqlite3* db, Search& search, bool count) {
  const std::int64_t probed_strings = (std::int64_t{1} << search.chunks.bits) / kEntriesPerProbe;
  for (ByStrings& filter : search.by_strings) {
    auto strings = select_integer(
        db, fmt::format("SELECT count(*) FROM ({} LIMIT {})", filter.strings, probed_strings + 1), search.text_params);
    if (!strings) return strings.error();
    filter.scanned = *strings > probed_strings;
  }
  // The chunks of the newest 65,536 to 131,072 ids (two of schema 3's).
  constexpr int kSampledBits = 16;
  const std::int64_t newest = search.ids.last >> kSampledBits;
  const std::int64_t first_sampled = std::max(search.ids.first, (newest - 1) << kSampledBits);
  const std::int64_t sampled = search.ids.last - first_sampled + 1;
  const StoreChunks sampled_chunks = store_chunks(search.ids, search.schema, first_sampled);
  bool dense = false;
  bool head = false;
  bool few_blocks = false;  // too few to hold the share: sparse, without reading them
  if (const auto* driver = marked_driver(search); driver != nullptr && sampled > 0) {
    // A count needs no order, but each marked row reads its block's rows from it: past one mark
    // in kCountedMarkFraction ids, every row tested once costs less.
    constexpr std::int64_t kBlock = std::int64_t{1} << kRepeatBlockBits;
    const std::int64_t bound = count ? sampled / kCountedMarkFraction : sampled / (kBlock * kChunkedDenseFraction);
    const std::string sql = fmt::format(
        "SELECT count(*) FROM (SELECT 1 FROM event_rows m WHERE {0} AND {1} AND m.{2}_repeat IS NULL LIMIT {3})",
        in_chunks(sampled_chunks, "m"), strings_condition(*driver, "m"), marked_key(*driver), bound + 1);
    auto marks = select_integer(db, sql, search.text_params);
    if (!marks) return marks.error();
    if (count) {
      dense = *marks > bound;
    } else {
      few_blocks = *marks * kBlock * kChunkedDenseFraction <= sampled;
    }
  }
  if (sampled > 0 && !count && !few_blocks) {  // a count by other keys: sparse, always
    const std::string sql = fmt::format("SELECT count(*) FROM ({} LIMIT {})", rows_in_chunks(search, sampled_chunks),
                                        sampled / kChunkedDenseFraction + 1);
    auto matches = select_integer(db, sql, search.text_params);
    if (!matches) return matches.error();
    dense = *matches * kChunkedDenseFraction > sampled;
    head = !dense && *matches * kHeadFraction > sampled;
  }
  const std::string walked =
      fmt::format("EXISTS (SELECT 1 FROM event_rows e WHERE e.id = events.id AND {})", search.text_rows());
  const std::string gathered = fmt::format("id IN ({})", rows_in_chunks(search, search.chunks));
  if (head) {
    search.head_sql = replaced(replaced(search.sql, kDenseMark, walked), kAfterMark, "");
    const std::size_t n = search.text_params.size();
    search.sql = replaced(search.sql, kAfterMark,
                          // `+`: not through the time index; the gathered rows, then these.
                          fmt::format(" AND (+time_ns {0} ?{1} OR (+time_ns = ?{1} AND id {0} ?{2}))",
                                      search.reverse ? '<' : '>', n + 1, n + 2));
  }
  search.sql = replaced(search.sql, kDenseMark, dense ? walked : gathered);
  return Ok{};
}

// A text filter that keeps few events (counted up to the bound only): their ids (event_rows' argv_id/image_id indexes),
// then a sort of those rows. One that keeps many: the time index walked, each id tested ('+id' keeps SQLite from
// driving the loop by the ids): no sort of a large result, and rows in order at once.
Result<Ok> choose_text_plan(sqlite3* db, Search& search, bool count) {
  if (search.by_strings.empty()) return Ok{};
  if (search.schema >= 3) return choose_chunked_plan(db, search, count);
  const std::string sql = fmt::format(
      "WITH n(events) AS (SELECT coalesce((SELECT max(id) FROM event_rows) - (SELECT min(id) FROM event_rows) + 1, "
      "0)) SELECT (SELECT count(*) FROM (SELECT 1 FROM event_rows e WHERE {0} LIMIT (SELECT events / {1} + 1 FROM "
      "n))) * {1} > (SELECT events FROM n)",
      search.text_rows(), kDenseFraction);
  auto dense_rows = select_integer(db, sql, search.text_params);
  if (!dense_rows) return dense_rows.error();
  const bool dense = *dense_rows != 0;
  const auto mark = search.sql.find(kDenseMark);
  search.sql.replace(mark, kDenseMark.size(), dense ? "+" : "");
  return Ok{};
}

Search search_statement(const QueryOptions& o, int schema, const RegexSearch* regex, sqlite3* db) {
  Search s;
  s.schema = schema;
  s.reverse = o.reverse;
  if (schema >= 3) {
    s.ids = store_id_range(db);
    s.chunks = store_chunks(s.ids, schema);
  }
  // Schema 3's lookups by key name the chunks: its indexes lead with them.
  auto chunked = [&](std::string_view alias) {
    return schema >= 3 ? in_chunks(s.chunks, alias) + " AND " : std::string();
  };
  std::string with;   // WITH RECURSIVE ... for --tree
  std::string where;  // " AND ..." conditions on events
  auto bind_text = [&](const std::string& value) {
    s.text_params.push_back(value);
    return fmt::format("?{}", s.text_params.size());
  };
  if (o.since_ns) where += fmt::format(" AND time_ns >= {}", *o.since_ns);
  if (o.until_ns) where += fmt::format(" AND time_ns < {}", *o.until_ns);
  auto any_of = [&](std::string_view column, const auto& values) {
    if (values.empty()) return;
    where += fmt::format(" AND {} IN (", column);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i != 0) where += ',';
      if constexpr (std::is_same_v<std::decay_t<decltype(values[0])>, std::string>) {
        where += bind_text(values[i]);
      } else {
        where += std::to_string(values[i]);
      }
    }
    where += ')';
  };
  // pid and process_uid are indexed on each process's first event only (event_store.cpp);
  // first_id leads from there to all of the process's events. Schema 2 stores the uid on that
  // first event only (the view computes it for the others, unindexed): lookups go to event_rows.
  const std::string_view rows = schema >= 2 ? "event_rows" : "events";
  if (!o.pids.empty()) {
    any_of("pid", o.pids);
    where += fmt::format(" AND first_id IN (SELECT f.id FROM {} f WHERE {}f.first_id = f.id", rows, chunked("f"));
    any_of("f.pid", o.pids);
    where += ')';
  }
  any_of("uid", o.uids);
  if (schema < 3) any_of("user", o.users);
  add_text_filters(o, schema, regex, where, s, bind_text);
  if (!o.rules.empty()) {
    where += " AND EXISTS (SELECT 1 FROM json_each(events.json, '$.rules') r WHERE 1";
    any_of("r.value", o.rules);
    where += ')';
  }
  if (!o.process_uid.empty()) {
    std::string uid = bind_text(o.process_uid);
    if (o.tree) {
      // The process, its recorded ancestors (through parent_uid) and all its descendants.
      // A child's uid: on schema 2, from its first stored event when this one has none.
      const std::string child_uid =
          schema >= 2 ? "COALESCE(e.process_uid, (SELECT c.process_uid FROM event_rows c WHERE c.id = e.first_id))"
                      : "e.process_uid";
      // Schema 4 indexes parent_uid on the events whose parent is not their first event's
      // (the first's is): a child is found through one of those.
      const std::string_view listed = schema >= 4 ? "e.parent_inherited IS NULL AND " : "";
      with = fmt::format(
          "WITH RECURSIVE down(u) AS (SELECT {0} UNION SELECT {2} FROM {1} e JOIN down ON "
          "{3}{5}e.parent_uid = down.u WHERE {2} IS NOT NULL), "
          "up(u) AS (SELECT {0} UNION SELECT e.parent_uid FROM up JOIN {1} f ON {4}f.process_uid = up.u AND "
          "f.first_id = f.id JOIN {1} e ON e.first_id = f.id WHERE e.parent_uid IS NOT NULL) ",
          uid, rows, child_uid, chunked("e"), chunked("f"), listed);
      where += fmt::format(
          " AND first_id IN (SELECT f.id FROM {} f WHERE {}f.first_id = f.id AND f.process_uid IN "
          "(SELECT u FROM down UNION SELECT u FROM up))",
          rows, chunked("f"));
    } else {
      where += fmt::format(" AND first_id IN (SELECT f.id FROM {} f WHERE {}f.first_id = f.id AND f.process_uid = {})",
                           rows, chunked("f"), uid);
    }
  }
  if (o.count) {
    s.sql = fmt::format("{}SELECT count(*) FROM events WHERE 1{}", with, where);
    return s;
  }
  // The table needs no JSON (in schema 2 a decompression per row), JSON Lines no other column
  // (in schema 2 a lookup each for event, user, image and argv).
  s.sql = fmt::format("{}SELECT {}, time_ns, id FROM events WHERE 1{}{}", with,
                      o.json ? "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, json"
                             : "time_ns, event, pid, ppid, user, uid, image, argv, NULL",
                      kAfterMark, where);
  // The time_ns index (and its rowid) gives this order without a sort, either way.
  s.sql += o.reverse ? " ORDER BY time_ns DESC, id DESC" : " ORDER BY time_ns, id";
  if (o.limit != 0) s.sql += fmt::format(" LIMIT {}", o.limit);
  return s;
}

// Called by SQLite every kProgressSteps virtual machine steps: rows found early in a long scan
// are shown without waiting for the next one; a head's walk stops at its deadline.
constexpr int kProgressSteps = 100'000;
struct Progress {
  QueryOutput* out;
  std::optional<std::chrono::steady_clock::time_point> deadline;
};
int flush_late_rows(void* context) {
  auto* progress = static_cast<Progress*>(context);
  if (progress->out->pending_too_long()) progress->out->flush();
  return progress->deadline && std::chrono::steady_clock::now() >= *progress->deadline ? 1 : 0;
}

// What bounds the query's memory: SQLite's page cache, and its sorter (which spills to temporary
// files past the cache size) for an ORDER BY no index gives, e.g. in --sql.
int schema_version(sqlite3* db) {
  sqlite3_stmt* raw = nullptr;
  int version = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &raw, nullptr) == SQLITE_OK &&
      sqlite3_step(raw) == SQLITE_ROW) {
    version = sqlite3_column_int(raw, 0);
  }
  sqlite3_finalize(raw);
  return version;
}

void bound_memory(sqlite3* db) {
  sqlite3_soft_heap_limit64(kQueryHeapBytes);
  sqlite3_exec(db, "PRAGMA cache_size=-4096; PRAGMA temp_store=FILE", nullptr, nullptr, nullptr);
}

// The statement run_query runs (its plan chosen), and procsentry_regex's search, alive until
// the statement is done.
Result<Search> planned_search(sqlite3* db, const QueryOptions& o, std::unique_ptr<RegexSearch>& regex) {
  if (!o.argv_regex.empty()) {
    auto compiled = RegexSearch::compile(o.argv_regex);
    if (!compiled) return compiled.error();
    regex = std::move(*compiled);
    register_regex_function(db, regex.get());
  }
  Search search;
  if (o.sql.empty()) {
    search = search_statement(o, schema_version(db), regex.get(), db);
    if (auto planned = choose_text_plan(db, search, o.count); !planned) return planned.error();
    search.sql = replaced(search.sql, kAfterMark, "");  // no head
  } else {
    search.sql = o.sql;
  }
  return search;
}

// The rows printed so far, and the last one's (time_ns, id): a search statement's last columns.
struct PrintedRows {
  std::uint64_t rows = 0;
  std::int64_t time_ns = 0;
  std::int64_t id = 0;
};

// Steps `stmt`, printing its rows, until it is done, --limit is reached or `more` rows have been
// printed; SQLite's last result code (SQLITE_ROW: stopped early).
int print_rows(sqlite3_stmt* stmt, const QueryOptions& o, QueryOutput& out, PrintedRows& printed, std::uint64_t more) {
  Rfc3339Formatter time;
  std::string& text = out.buffer();
  int rc = SQLITE_ROW;
  const std::uint64_t limit = o.sql.empty() && o.limit != 0 ? o.limit : UINT64_MAX;  // --sql has its own
  for (std::uint64_t n = 0; n < more && printed.rows < limit && !out.failed(); ++n) {
    if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) break;
    if (o.count) {
      printed.rows = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0));
      text += o.json ? fmt::format("{{\"count\":{}}}\n", printed.rows) : fmt::format("{}\n", printed.rows);
      break;
    }
    ++printed.rows;
    if (!o.sql.empty()) {
      append_row_json(text, stmt);
    } else {
      if (o.json) {
        text += column_text(stmt, 8);
        text += '\n';
      } else {
        append_row_table(text, stmt, time);
      }
      printed.time_ns = sqlite3_column_int64(stmt, 9);
      printed.id = sqlite3_column_int64(stmt, 10);
    }
    out.end_row();
  }
  return rc;
}

// The first rows, the time index walked, for up to QueryOptions::first_rows_ms/_max. True: that
// was all of them.
Result<bool> print_head(sqlite3* db, const Search& search, const QueryOptions& o, QueryOutput& out,
                        PrintedRows& printed) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, search.head_sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Error{fmt::format("query failed: {}", sqlite3_errmsg(db))};
  }
  Statement stmt(raw, sqlite3_finalize);
  bind_named_params(raw, search.text_params);
  Progress progress{&out, std::chrono::steady_clock::now() + std::chrono::milliseconds(o.first_rows_ms)};
  sqlite3_progress_handler(db, kProgressSteps, flush_late_rows, &progress);
  const int rc = print_rows(raw, o, out, printed, o.first_rows_max);
  sqlite3_progress_handler(db, 0, nullptr, nullptr);
  if (rc == SQLITE_INTERRUPT || rc == SQLITE_ROW) return false;  // the deadline, or enough rows
  if (rc != SQLITE_DONE) return Error{fmt::format("query failed: {}", sqlite3_errmsg(db))};
  return true;
}

Result<std::uint64_t> finish_output(QueryOutput& out, std::uint64_t rows) {
  out.flush();
  if (out.failed()) return Error{fmt::format("cannot write the result: {}", std::strerror(out.error()))};
  return rows;
}

}  // namespace

Result<std::uint64_t> run_query(const std::string& db_path, const QueryOptions& o, QueryOutput& out) {
  auto db = open_store_read_only(db_path);
  if (!db) return db.error();
  bound_memory(db->get());
  std::unique_ptr<RegexSearch> regex;
  auto planned = planned_search(db->get(), o, regex);
  if (!planned) return planned.error();
  const Search& search = *planned;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db->get(), search.sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Error{fmt::format("query failed: {}", sqlite3_errmsg(db->get()))};
  }
  Statement stmt(raw, sqlite3_finalize);
  if (!o.sql.empty() && sqlite3_stmt_readonly(raw) == 0) {
    return Error{"--sql runs read-only statements only (SELECT, WITH ... SELECT)"};
  }
  std::string& text = out.buffer();
  if (o.sql.empty() && !o.json && !o.count) {
    text += kTableHeader;
    text += '\n';
  }
  PrintedRows printed;
  if (!search.head_sql.empty()) {
    auto head = print_head(db->get(), search, o, out, printed);
    if (!head) return head.error();
    if (*head) return finish_output(out, printed.rows);
    out.flush();  // the first rows on screen while the rest are gathered
  }
  const auto& params = search.text_params;
  for (std::size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_text(raw, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()),
                      SQLITE_STATIC);
  }
  if (!search.head_sql.empty()) {  // after the head's last row (none: from the first)
    const auto none =
        search.reverse ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    sqlite3_bind_int64(raw, static_cast<int>(params.size() + 1), printed.rows > 0 ? printed.time_ns : none);
    sqlite3_bind_int64(raw, static_cast<int>(params.size() + 2), printed.rows > 0 ? printed.id : none);
  }
  Progress progress{&out, std::nullopt};
  sqlite3_progress_handler(db->get(), kProgressSteps, flush_late_rows, &progress);
  const int rc = print_rows(raw, o, out, printed, UINT64_MAX);
  sqlite3_progress_handler(db->get(), 0, nullptr, nullptr);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error{fmt::format("query failed: {}", sqlite3_errmsg(db->get()))};
  return finish_output(out, printed.rows);
}

Result<std::vector<std::string>> query_plan(const std::string& db_path, const QueryOptions& o) {
  auto db = open_store_read_only(db_path);
  if (!db) return db.error();
  std::unique_ptr<RegexSearch> regex;
  auto search = planned_search(db->get(), o, regex);
  if (!search) return search.error();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db->get(), ("EXPLAIN QUERY PLAN " + search->sql).c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Error{fmt::format("query failed: {}", sqlite3_errmsg(db->get()))};
  }
  Statement stmt(raw, sqlite3_finalize);
  std::vector<std::string> lines;
  while (sqlite3_step(raw) == SQLITE_ROW) lines.emplace_back(column_text(raw, 3));  // id, parent, notused, detail
  return lines;
}

std::optional<Error> check_query(const QueryOptions& options) {
  if (options.argv_regex.empty()) return std::nullopt;
  auto compiled = RegexSearch::compile(options.argv_regex);
  if (!compiled) return compiled.error();
  return std::nullopt;
}

Result<std::uint64_t> run_query(const std::string& db_path, const QueryOptions& options, std::string& out) {
  QueryOutput output(out);
  return run_query(db_path, options, output);
}

}  // namespace procsentry
