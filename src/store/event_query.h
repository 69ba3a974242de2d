// `procsentry query`: read-only searches of the event store, as the table or JSON Lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/quantities.h"
#include "core/result.h"
#include "store/query_output.h"

namespace procsentry {

struct QueryOptions {
  std::optional<std::int64_t> since_ns;
  std::optional<std::int64_t> until_ns;
  std::vector<std::uint32_t> pids;
  std::vector<std::uint32_t> uids;
  std::vector<std::string> users;
  std::string image_glob;
  std::string argv_substring;
  std::string argv_regex;  // RE2, anywhere in the command line
  std::string process_uid;
  std::vector<std::string> rules;  // events tagged by any of these include rules (--config)
  bool tree = false;               // with process_uid: its recorded ancestors and descendants
  bool json = false;
  std::uint64_t limit = 0;  // at most this many rows (0: all)
  bool reverse = false;     // newest first
  bool count = false;       // only the number of matching events
  std::string sql;          // a read-only statement; rows printed as JSON objects
  // A filter keeping between 1 in 8,192 and 1 in 32 events of a schema 3 store: its first rows
  // come from the time index walked for up to this long or this many rows, the rest gathered
  // through the indexes and sorted (event_query.cpp). Tests set the rows.
  std::int64_t first_rows_ms = 50;
  std::uint64_t first_rows_max = UINT64_MAX;
};

// Writes the rows to `out` as SQLite steps through them (flushed at the end); returns the number
// of rows (with `count`: the number counted). Memory stays bounded whatever the result's size.
Result<std::uint64_t> run_query(const std::string& db_path, const QueryOptions& options, QueryOutput& out);
// The same, appended to `out`: for tests and small results.
Result<std::uint64_t> run_query(const std::string& db_path, const QueryOptions& options, std::string& out);

// The plan SQLite takes for the search run_query would run (EXPLAIN QUERY PLAN's details, a line
// each): tests check which indexes serve a lookup.
Result<std::vector<std::string>> query_plan(const std::string& db_path, const QueryOptions& options);

// What run_query would refuse before opening the store (a regex that does not compile).
std::optional<Error> check_query(const QueryOptions& options);

// "2026-11-24T03:00:00Z" (UTC), "2026-11-24 03:00[:00]" (local time), or an age: "90s", "15m",
// "3h", "7d" (before `now_ns`).
Result<std::int64_t> parse_time(const std::string& text, std::int64_t now_ns);

}  // namespace procsentry
