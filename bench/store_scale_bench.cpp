// History at scale (issue 13): builds a store of N synthetic events (default 10 M) through the
// StoreWriter exactly as `procsentry record` writes them, reports its bytes per event, insert
// rate and the size of each table and index (strings and FTS included), then runs the real
// `procsentry query` / `procsentry report` per query kind, cold (the db's page cache dropped)
// and warm: wall time, time to the first byte on the pipe, peak RSS. Last, the retention pause:
// the longest stall of a concurrent writer while the oldest day is deleted. Markdown tables.
//   build/bench/store_scale_bench [--events N] [--db PATH] [--reuse] [--procsentry PATH]
//     [--no-hash] [--no-queries] [--query-timeout S (300)] [--no-retention]
// --reuse measures a store built before (retention, last, deletes its oldest day).
#include <fmt/core.h>
#include <malloc.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/store_functions.h"
#include "store/store_row.h"
#include "store/store_writer.h"
#include "store_scale/pause_profile.h"
#include "store_scale/synthetic_events.h"
#include "store_scale/timed_run.h"

namespace {

// This process's peak resident set (VmHWM), in KiB; 0 if unknown.
long peak_rss_self_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::atol(line.c_str() + 6);
  }
  return 0;
}

using namespace procsentry;
using namespace procsentry::bench;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kDay = 86'400'000'000'000;

struct Options {
  std::uint64_t events = 10'000'000;
  std::string db = "/var/tmp/store_scale_bench/events.db";
  std::string procsentry = PROCSENTRY_BINARY;
  bool reuse = false;  // the store is already built: only measure
  bool hash = true;
  bool retention = true;
  bool queries = true;
  double query_timeout_s = 300;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double cpu_s(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
double thread_cpu_s() { return cpu_s(CLOCK_THREAD_CPUTIME_ID); }
double process_cpu_s() { return cpu_s(CLOCK_PROCESS_CPUTIME_ID); }

// Events into the store as `record` does: formatted into a store row on the event thread,
// parsed and written by the store's thread (here one thread does both, timed apart).
bool build_store(const Options& o) {
  fs::create_directories(fs::path(o.db).parent_path());
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(o.db + suffix);
  auto store = EventStore::open(o.db);
  if (!store) {
    fmt::print(stderr, "store_scale_bench: {}\n", store.error().message);
    return false;
  }
  SyntheticOptions so;
  so.events = o.events;
  so.end_ns = ClockMapping::now_epoch_ns();
  so.hash = o.hash;
  SyntheticEvents events(so);
  StoreWriter writer(**store, {}, stderr);
  StoreRowFormatter format;
  // Rows are formatted a batch at a time, then written and timed together, as the store's
  // thread receives them (a poll's delivery): reading the thread's CPU clock per event cost
  // as much as a tenth of the time it measured.
  constexpr std::size_t kBatch = 200;
  std::vector<std::string> batch(kBatch);
  std::vector<StoreRow> rows;
  double store_s = 0, store_cpu_s = 0;
  double longest_batch_cpu_s = 0;  // what the store's thread paused recording for, at most
  const auto start = Clock::now();
  const double cpu_start = thread_cpu_s();
  const double process_cpu_start = process_cpu_s();
  for (std::uint64_t i = 0; i < o.events;) {
    rows.clear();
    for (std::size_t b = 0; b < kBatch && i < o.events; ++b, ++i) {
      batch[b].clear();
      format.append(batch[b], events.next());
      rows.push_back(*StoreRow::parse(batch[b]));
    }
    const auto t = Clock::now();
    const double c = thread_cpu_s();
    for (const StoreRow& row : rows) writer.write(row);
    const double batch_cpu_s = thread_cpu_s() - c;
    store_cpu_s += batch_cpu_s;
    longest_batch_cpu_s = std::max(longest_batch_cpu_s, batch_cpu_s);
    store_s += std::chrono::duration<double>(Clock::now() - t).count();
    if (i % 1'000'000 == 0) {
      fmt::print(stderr, "store_scale_bench: {} M events in {:.0f} s\n", i / 1'000'000, seconds_since(start));
    }
  }
  const auto t = Clock::now();
  const double c = thread_cpu_s();
  writer.finish();
  store_cpu_s += thread_cpu_s() - c;
  store_s += std::chrono::duration<double>(Clock::now() - t).count();
  const double wall = seconds_since(start);
  const double cpu = thread_cpu_s() - cpu_start;
  const double process_cpu = process_cpu_s() - process_cpu_start;  // with the store's other threads
  store->reset();                                                  // closes: the WAL is checkpointed into the file
  const long peak_rss_kib = peak_rss_self_kib();
  // The writer's page cache goes back to the system: a query forked from here would count it in
  // its peak RSS.
  malloc_trim(0);
  fmt::print("## Insert ({} events, {})\n\n", o.events, o.hash ? "execs with sha256 (--hash)" : "no sha256");
  fmt::print("| what | figure |\n|---|---|\n");
  fmt::print("| build, one thread (synthesis + store row + insert) | {:.1f} s wall, {:.1f} s CPU |\n", wall, cpu);
  // Per CPU second and per wall second: on a shared machine (or under nice) the wall clock
  // also counts the time the thread waited for a core.
  fmt::print(
      "| insert rate, the store thread's share (StoreWriter::write, commits included) | {:.0f} events per CPU "
      "second, {:.0f} per wall second |\n",
      static_cast<double>(o.events) / store_cpu_s, static_cast<double>(o.events) / store_s);
  fmt::print("| insert rate, end to end on one thread | {:.0f} events per CPU second, {:.0f} per wall second |\n",
             static_cast<double>(o.events) / cpu, static_cast<double>(o.events) / wall);
  fmt::print(
      "| insert rate, end to end, the whole process's CPU (the store's own threads too) | {:.0f} events per CPU "
      "second ({:.1f} s CPU) |\n",
      static_cast<double>(o.events) / process_cpu, process_cpu);
  fmt::print("| the store thread's longest write of {} rows (CPU: a commit, a dictionary's training) | {:.0f} ms |\n",
             kBatch, longest_batch_cpu_s * 1000);
  fmt::print("| peak RSS of the process (VmHWM: the store's cache, the synthesis' tables) | {:.1f} MiB |\n",
             static_cast<double>(peak_rss_kib) / 1024.0);
  fmt::print("| stored / dropped | {} / {} |\n\n", writer.stored(), writer.dropped());
  return writer.dropped() == 0;
}

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    register_store_functions(db);
  }
  ~Db() { sqlite3_close(db); }
  // The first column of the first row, as text ("" if none or on error).
  std::string one(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW &&
        sqlite3_column_text(stmt, 0) != nullptr) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    } else if (stmt == nullptr || sqlite3_errcode(db) != SQLITE_OK) {
      fmt::print(stderr, "store_scale_bench: {}: {}\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_finalize(stmt);
    return value;
  }
};

std::int64_t to_int(const std::string& s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

void print_sizes(const std::string& path) {
  Db db(path);
  const std::int64_t events = to_int(db.one("SELECT count(*) FROM events"));
  const std::int64_t bytes =
      to_int(db.one("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"));
  fmt::print("## Size\n\n| what | figure |\n|---|---|\n");
  fmt::print("| events | {} |\n| database (page_count * page_size) | {:.1f} MiB |\n", events,
             static_cast<double>(bytes) / 1048576.0);
  fmt::print("| bytes per event | {:.0f} |\n",
             events > 0 ? static_cast<double>(bytes) / static_cast<double>(events) : 0.0);
  // Per table and index (dbstat reads every page: a few seconds per GiB).
  sqlite3_stmt* stmt = nullptr;
  double strings = 0;  // schema 2: strings, its indexes and its FTS index
  if (sqlite3_prepare_v2(db.db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC", -1, &stmt,
                         nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const double b = static_cast<double>(sqlite3_column_int64(stmt, 1));
      if (std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))).starts_with("strings")) {
        strings += b;
      }
      fmt::print("| {} | {:.1f} MiB ({:.0f} bytes/event) |\n",
                 reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), b / 1048576.0,
                 events > 0 ? b / static_cast<double>(events) : 0.0);
    }
  } else {
    fmt::print("| per table | dbstat unavailable: {} |\n", sqlite3_errmsg(db.db));
  }
  sqlite3_finalize(stmt);
  fmt::print("| strings + FTS (all `strings*` above) | {:.1f} MiB ({:.1f} bytes/event) |\n\n", strings / 1048576.0,
             events > 0 ? strings / static_cast<double>(events) : 0.0);
}

std::string cell(const TimedRun& r) {
  if (r.timed_out) return fmt::format("killed after {:.0f} s | - | -", r.wall_ms / 1000);
  if (r.status != 0) return fmt::format("status {}: {} | - | -", r.status, r.error);
  return fmt::format("{:.0f} ms | {} | {:.1f} MiB", r.wall_ms,
                     r.first_byte_ms < 0 ? std::string("-") : fmt::format("{:.0f} ms", r.first_byte_ms),
                     static_cast<double>(r.peak_rss_kib) / 1024.0);
}

std::string rows_of(const TimedRun& r, bool json_rows) {
  if (r.status != 0) return "-";
  if (json_rows) return std::to_string(r.lines);
  std::string head = r.head.substr(0, r.head.find('\n'));
  return head.size() > 40 ? head.substr(0, 40) + "..." : head;
}

void run_queries(const Options& o) {
  Db db(o.db);
  // A process with a few recorded children, from the newest events (cheap to find).
  const std::string uid = db.one(
      "SELECT parent_uid FROM events WHERE event = 'fork' AND id > (SELECT max(id) FROM events) - 200000 AND "
      "parent_uid IS NOT NULL GROUP BY parent_uid HAVING count(*) BETWEEN 2 AND 50 ORDER BY count(*) DESC LIMIT 1");
  const std::string top_image = db.one(
      "SELECT image FROM events WHERE event = 'exec' AND id > (SELECT max(id) FROM events) - 200000 GROUP BY image "
      "ORDER BY count(*) DESC LIMIT 1");
  // The most and the least frequent user among the newest events: many rows, and few.
  const std::string users =
      "SELECT user FROM events WHERE id > (SELECT max(id) FROM events) - 200000 AND user IS NOT "
      "NULL GROUP BY user ORDER BY count(*) {} LIMIT 1";
  const std::string top_user = db.one(fmt::format(fmt::runtime(users), "DESC"));
  const std::string rare_user = db.one(fmt::format(fmt::runtime(users), "ASC"));
  struct Query {
    std::string label;
    std::vector<std::string> args;
    bool json_rows = true;  // rows = lines of JSON
  };
  const std::vector<Query> queries = {
      {fmt::format("`--argv {}` (rare)", SyntheticEvents::kRareNeedle),
       {"query", "--json", "--argv", SyntheticEvents::kRareNeedle}},
      {fmt::format("`--argv {}` (common)", SyntheticEvents::kCommonNeedle),
       {"query", "--json", "--argv", SyntheticEvents::kCommonNeedle}},
      {"`--argv nothing-matches-this`", {"query", "--json", "--argv", "nothing-matches-this"}},
      {fmt::format("`--image {}`", top_image), {"query", "--json", "--image", top_image}},
      {"`--since 1h`", {"query", "--json", "--since", "1h"}},
      {"`--process-uid U --tree`", {"query", "--json", "--process-uid", uid, "--tree"}},
      {fmt::format("`--user {}` (most frequent)", top_user), {"query", "--json", "--user", top_user}},
      {fmt::format("`--user {}` (least frequent)", rare_user), {"query", "--json", "--user", rare_user}},
      {"`--count`", {"query", "--count"}, false},
      {fmt::format("`--count --argv {}`", SyntheticEvents::kCommonNeedle),
       {"query", "--count", "--argv", SyntheticEvents::kCommonNeedle},
       false},
      // A glob naming thousands of images, most of a block's marked rows among them.
      {"`--count --image '/usr/*'`", {"query", "--count", "--image", "/usr/*"}, false},
      {"`--limit 100`", {"query", "--json", "--limit", "100"}},
      {"`--limit 100 --reverse`", {"query", "--json", "--limit", "100", "--reverse"}},
      {"`report --since 1d`", {"report", "--since", "1d"}, false},
      {"`report` (the whole store)", {"report"}, false},
  };
  fmt::print("## Queries (`procsentry` {}; cold: the db's page cache dropped)\n\n", o.procsentry);
  fmt::print(
      "| query | rows (or first line) | cold wall | cold first byte | cold peak RSS | warm wall | warm first byte | "
      "warm peak RSS |\n|---|---|---|---|---|---|---|---|\n");
  for (const Query& q : queries) {
    std::vector<std::string> argv{o.procsentry};
    argv.insert(argv.end(), q.args.begin(), q.args.end());
    argv.push_back("--db");
    argv.push_back(o.db);
    drop_page_cache(o.db);
    const TimedRun cold = run_timed(argv, o.query_timeout_s);
    // Killed cold: warm it would only be killed again (the cache holds a fraction of the store).
    const TimedRun warm = cold.timed_out ? cold : run_timed(argv, o.query_timeout_s);
    fmt::print("| {} | {} | {} | {} |\n", q.label, rows_of(warm, q.json_rows), cell(cold), cell(warm));
    std::fflush(stdout);
  }
  fmt::print("\n");
}

// The oldest day deleted as `record --keep` deletes it: by the recording StoreWriter itself,
// in bounded slices between its commits, while it records 20,000 events/s (batches every
// 10 ms, as the ring buffer's polls deliver them). The longest batch is the recording's
// longest pause.
void measure_retention(const Options& o) {
  Db db(o.db);
  const std::int64_t cutoff = to_int(db.one("SELECT min(time_ns) FROM events")) + kDay;
  const std::int64_t to_delete =
      to_int(db.one(fmt::format("SELECT count(*) FROM event_rows WHERE time_ns < {}", cutoff)));
  // Polled while recording: one look into the time index.
  const std::string left =
      fmt::format("SELECT count(*) FROM (SELECT 1 FROM event_rows WHERE time_ns < {} LIMIT 1)", cutoff);
  auto store = EventStore::open(o.db);
  if (!store) {
    fmt::print(stderr, "store_scale_bench: {}\n", store.error().message);
    return;
  }
  SyntheticOptions so;
  so.events = 100'000'000;
  so.span_ns = 3'600'000'000'000;
  so.end_ns = ClockMapping::now_epoch_ns() + so.span_ns;
  so.seed = 7;
  SyntheticEvents events(so);
  StoreRowFormatter format;
  std::string bytes;
  std::vector<double> stalls_ms;
  RetentionOptions retention;
  retention.keep_ns = ClockMapping::now_epoch_ns() - cutoff;
  StoreWriter writer(**store, retention, stderr);
  PauseProfile profile(**store);
  const auto start = Clock::now();
  auto next_batch = start;
  double deleted_after_s = -1;
  std::stop_source never;
  // Until the day is gone (or 10 minutes), and one second more.
  for (auto end = start + std::chrono::minutes(10); Clock::now() < end;) {
    std::this_thread::sleep_until(next_batch);
    next_batch += std::chrono::milliseconds(10);
    const auto t = Clock::now();
    profile.start_batch();
    for (int i = 0; i < 200; ++i) {
      bytes.clear();
      format.append(bytes, events.next());
      writer.write(*StoreRow::parse(bytes));
    }
    writer.tick(never.get_token());
    stalls_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    profile.end_batch(stalls_ms.back());
    if (deleted_after_s < 0 && stalls_ms.size() % 10 == 0 && to_int(db.one(left)) == 0) {
      deleted_after_s = seconds_since(start);
      end = Clock::now() + std::chrono::seconds(1);
    }
  }
  writer.finish();
  std::sort(stalls_ms.begin(), stalls_ms.end());
  fmt::print("## Retention: the oldest day deleted while recording (record --keep)\n\n| what | figure |\n|---|---|\n");
  fmt::print("| the oldest day | {} events, {} |\n", to_delete,
             deleted_after_s < 0 ? std::string("not all deleted after 10 minutes")
                                 : fmt::format("all deleted {:.1f} s after recording started", deleted_after_s));
  fmt::print("| writer at 20,000 events/s: batches of 200 written + tick (retention slices included) | {} |\n",
             stalls_ms.size());
  fmt::print("| longest batch (the recording's longest pause) | {:.0f} ms |\n",
             stalls_ms.empty() ? 0.0 : stalls_ms.back());
  fmt::print("| 99th percentile / median batch | {:.1f} ms / {:.1f} ms |\n",
             stalls_ms.empty() ? 0.0 : stalls_ms[stalls_ms.size() * 99 / 100],
             stalls_ms.empty() ? 0.0 : stalls_ms[stalls_ms.size() / 2]);
  fmt::print("| events recorded / dropped (failed batches) | {} / {} |\n\n", writer.stored(), writer.dropped());
  fmt::print("{}", profile.report());
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--events") {
      const char* v = value();
      const char* end = v == nullptr ? nullptr : v + std::char_traits<char>::length(v);
      if (v == nullptr || std::from_chars(v, end, o.events).ptr != end || o.events == 0) {
        fmt::print(stderr, "store_scale_bench: --events needs a positive number\n");
        return false;
      }
    } else if (arg == "--db" || arg == "--procsentry") {
      const char* v = value();
      if (v == nullptr) {
        fmt::print(stderr, "store_scale_bench: {} needs a path\n", arg);
        return false;
      }
      (arg == "--db" ? o.db : o.procsentry) = v;
    } else if (arg == "--reuse") {
      o.reuse = true;
    } else if (arg == "--no-hash") {
      o.hash = false;
    } else if (arg == "--no-retention") {
      o.retention = false;
    } else if (arg == "--query-timeout") {
      const char* v = value();
      o.query_timeout_s = v == nullptr ? 0 : std::atof(v);
      if (o.query_timeout_s <= 0) {
        fmt::print(stderr, "store_scale_bench: --query-timeout needs a number of seconds\n");
        return false;
      }
    } else if (arg == "--no-queries") {
      o.queries = false;
    } else {
      fmt::print(stderr,
                 "store_scale_bench: unknown option {} (options: --events N, --db PATH, --reuse, --procsentry PATH, "
                 "--no-hash, --no-queries, --query-timeout S, --no-retention)\n",
                 arg);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  const auto start = Clock::now();
  fmt::print("# store_scale_bench: {} (schema of this build: {})\n\n", o.db, EventStore::kSchemaVersion);
  if (!o.reuse && !build_store(o)) return 1;
  print_sizes(o.db);
  std::fflush(stdout);
  if (o.queries) run_queries(o);
  if (o.retention) measure_retention(o);
  fmt::print("Whole run: {:.0f} s\n", seconds_since(start));
  return 0;
}
