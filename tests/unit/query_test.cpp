// procsentry query: --limit, --reverse, --count and their refusals, and a million-row result
// streamed by the real binary in bounded memory, its first row out before the last is read.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/event_query.h"
#include "store/event_store.h"
#include "store/store_functions.h"
#include "store/store_row.h"
#include "store/store_writer.h"
#include "support/spawn.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kBoot = 1'795'521'841'000'000'000;  // 2026-11-24T12:04:01Z
constexpr std::int64_t kSecond = 1'000'000'000;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // shadow memory and quarantine: RSS says nothing of the query
#else
constexpr bool kSanitized = false;
#endif

// Writes `count` events through the store's own writer (whatever its schema): event i at
// boot + i s, pid 1000 + i, image /usr/bin/tool(i % 7), argv "tool -n i".
void record(const std::string& path, int count) {
  auto store = EventStore::open(path);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  StoreWriter sink(**store, {}, stderr);
  std::deque<std::string> texts;  // what the rows' views point into
  for (int i = 0; i < count; ++i) {
    StoreRow row;
    row.time_ns = kBoot + i * kSecond;
    row.pid = static_cast<std::uint32_t>(1000 + i);
    row.ppid = 1;
    row.uid = i % 2 == 0 ? 0 : 1000;
    row.user = i % 2 == 0 ? "root" : "alice";
    row.process_uid = texts.emplace_back("ab-" + std::to_string(1000 + i) + "-1");
    row.parent_uid = "ab-1-1";
    row.image = texts.emplace_back("/usr/bin/tool" + std::to_string(i % 7));
    row.argv = texts.emplace_back("tool -n " + std::to_string(i));
    row.json = texts.emplace_back(fmt::format(R"({{"event":"exec","pid":{},"argv":["tool","-n","{}"]}})", 1000 + i, i));
    sink.write(row);
  }
  sink.finish();
  ASSERT_EQ(sink.stored(), static_cast<std::uint64_t>(count));
}

// The stored rows copied `times` times more, copy k shifted by k * `span_ns`: a big store in
// seconds, whatever the schema (rows are copied as stored, compressed bodies included; bodies
// in blocks, which name their ids, are first given frames of their own, as schema 5 stored them).
void multiply(const std::string& path, int times, std::int64_t span_ns) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  register_store_functions(db);
  auto scalar = [&](const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string text;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return text;
  };
  const std::string table =
      scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'event_rows'") == "1" ? "event_rows" : "events";
  const std::string columns = scalar("SELECT group_concat(name, ', ') FROM pragma_table_info('" + table +
                                     "') WHERE name NOT IN ('id', 'time_ns')");
  const std::string sql = fmt::format(
      "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < {0}) "
      "INSERT INTO {1}(time_ns, {2}) SELECT time_ns + n * {3}, {2} FROM (SELECT * FROM {1} ORDER BY id), k",
      times, table, columns, span_ns);
  // The table's indexes made again after the copy (a sort each: faster than a million inserts
  // into each), in a big cache (this runs in a child of its own, see BigStoreTest).
  const std::string indexes =
      scalar("SELECT group_concat(sql, '; ') FROM sqlite_schema WHERE type = 'index' AND tbl_name = '" + table +
             "' AND sql IS NOT NULL");
  const std::string drops = scalar(
      "SELECT group_concat('DROP INDEX ' || name, '; ') FROM sqlite_schema WHERE type = "
      "'index' AND tbl_name = '" +
      table + "' AND sql IS NOT NULL");
  const std::string own_frames = scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'body_blocks'") == "1"
                                     ? "UPDATE event_rows SET body = procsentry_compress(procsentry_json(dict_id, "
                                       "body, id, 'body_blocks')), dict_id = 0 "
                                       "WHERE "
                                       "length(body) = 0; "
                                     : "";
  const std::string script = "PRAGMA cache_size=-524288; PRAGMA synchronous=OFF; BEGIN; " + own_frames + drops + "; " +
                             sql + "; " + indexes + "; COMMIT";
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, script.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

test::ProcessOptions piped() {
  test::ProcessOptions options;
  options.pipes = true;
  return options;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class QueryTest : public ::testing::Test {
 protected:
  QueryTest() : dir_(fs::temp_directory_path() / ("query." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~QueryTest() override { fs::remove_all(dir_); }

  std::vector<std::string> json_lines(QueryOptions q) {
    q.json = true;
    std::string out;
    auto rows = run_query(path_, q, out);
    EXPECT_TRUE(rows.has_value()) << (rows ? "" : rows.error().message);
    auto lines = lines_of(out);
    if (rows) {
      EXPECT_EQ(*rows, lines.size());
    }
    return lines;
  }
  // The pids of the JSON lines, in order.
  std::vector<int> pids(const QueryOptions& q) {
    std::vector<int> found;
    for (const auto& line : json_lines(q)) found.push_back(std::stoi(line.substr(line.find("\"pid\":") + 6)));
    return found;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(QueryTest, LimitReverseAndCount) {
  record(path_, 20);
  QueryOptions q;
  q.limit = 3;
  EXPECT_EQ(pids(q), (std::vector<int>{1000, 1001, 1002}));
  q.reverse = true;
  EXPECT_EQ(pids(q), (std::vector<int>{1019, 1018, 1017}));
  q = {};
  q.reverse = true;
  q.uids = {1000};
  q.since_ns = kBoot + 10 * kSecond;
  EXPECT_EQ(pids(q), (std::vector<int>{1019, 1017, 1015, 1013, 1011}));
  q.limit = 100;  // more than there are
  EXPECT_EQ(pids(q).size(), 5u);

  std::string out;
  q = {};
  q.count = true;
  ASSERT_EQ(*run_query(path_, q, out), 20u);
  EXPECT_EQ(out, "20\n");
  out.clear();
  q.image_glob = "/usr/bin/tool3";  // i = 3, 10, 17
  q.json = true;
  ASSERT_EQ(*run_query(path_, q, out), 3u);
  EXPECT_EQ(out, "{\"count\":3}\n");
  out.clear();
  q.image_glob = "/nowhere";
  q.json = false;
  ASSERT_EQ(*run_query(path_, q, out), 0u);
  EXPECT_EQ(out, "0\n");

  // The table: its header, then the rows newest first.
  out.clear();
  q = {};
  q.reverse = true;
  q.limit = 2;
  ASSERT_EQ(*run_query(path_, q, out), 2u);
  auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0].rfind("TIME", 0), 0u) << out;
  EXPECT_NE(lines[1].find("tool -n 19"), std::string::npos) << out;
  EXPECT_NE(lines[2].find("tool -n 18"), std::string::npos) << out;
}

// Equal times keep the store's order (id), reversed by --reverse.
TEST_F(QueryTest, EqualTimesKeepTheRecordedOrderEitherWay) {
  record(path_, 3);
  multiply(path_, 1, 0);  // each event twice, at the same time
  QueryOptions q;
  std::vector<std::string> forward = json_lines(q);
  ASSERT_EQ(forward.size(), 6u);
  q.reverse = true;
  std::vector<std::string> backward = json_lines(q);
  std::reverse(backward.begin(), backward.end());
  EXPECT_EQ(forward, backward);
}

// One line, status 2, nothing on stdout: what would be silently not done together.
TEST_F(QueryTest, RefusedCombinations) {
  record(path_, 1);
  const std::string sql_why = "not used with --sql";
  const std::string count_why = "not used with --count";
  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"--sql", "SELECT 1", "--limit", "1"}, "--limit: " + sql_why},
      {{"--sql", "SELECT 1", "--reverse"}, "--reverse: " + sql_why},
      {{"--sql", "SELECT 1", "--count"}, "--count: " + sql_why},
      {{"--sql", "SELECT 1", "--argv", "x"}, "--argv: " + sql_why},
      {{"--since", "1h", "--sql", "SELECT 1"}, "--since: " + sql_why},
      {{"--count", "--limit", "5"}, "--limit: " + count_why},
      {{"--count", "--reverse"}, "--reverse: " + count_why},
      {{"--limit", "0"}, "--limit"},
      {{"--limit", "-1"}, "--limit"},
      {{"--argv-regex", "a(b"}, "--argv-regex: not a regular expression (RE2): missing )"},
  };
  for (const auto& [args, why] : refused) {
    std::vector<std::string> argv{PROCSENTRY_BINARY, "query", "--db", path_};
    argv.insert(argv.end(), args.begin(), args.end());
    test::Captured c = test::capture(argv[0], argv, piped());
    EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 2) << args[0] << " " << c.err;
    EXPECT_NE(c.err.find(why), std::string::npos) << c.err;
    EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
    EXPECT_EQ(c.out, "");
  }
  test::Captured c = test::capture(PROCSENTRY_BINARY, {PROCSENTRY_BINARY, "query", "--db", path_, "--count"}, piped());
  EXPECT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.out, "1\n");
}

// A store of a million events, built once for the tests below (about 100 MB).
class BigStoreTest : public ::testing::Test {
 protected:
  static constexpr int kBase = 1000;
  static constexpr int kEvents = kSanitized ? 200'000 : 1'000'000;

  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("query-big." + std::to_string(getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    path_ = new std::string((*dir_ / "events.db").string());
    // Built in a child, so that this process (whose peak RSS a forked child starts from) stays small.
    const pid_t child = fork();
    if (child == 0) {
      record(*path_, kBase);
      multiply(*path_, kEvents / kBase - 1, kBase * kSecond);
      _exit(::testing::Test::HasFailure() ? 1 : 0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    built_ = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete path_;
  }
  void SetUp() override { ASSERT_TRUE(built_) << "the big store could not be built"; }

  struct Run {
    std::uint64_t lines = 0;
    std::uint64_t bytes = 0;
    std::string first_line, last_line;
    long max_rss_kib = 0;
    int status = -1;
    std::string err;
  };
  // The real binary with `args`, its stdout counted (not kept) as it comes; peak RSS from wait4.
  static Run run(const std::vector<std::string>& args) {
    std::vector<std::string> argv{PROCSENTRY_BINARY, "query", "--db", *path_};
    argv.insert(argv.end(), args.begin(), args.end());
    test::Child child = test::start_process(argv[0], argv, piped());
    Run r;
    std::string partial;  // the line being read
    test::read_until_eof(
        child.out, child.err,
        [&](std::string_view chunk) {
          r.bytes += chunk.size();
          // memchr: this file is built -O0, and the output is a few hundred megabytes.
          for (const char* p = chunk.data(); p != chunk.data() + chunk.size();) {
            const auto left = static_cast<std::size_t>(chunk.data() + chunk.size() - p);
            const char* eol = static_cast<const char*>(std::memchr(p, '\n', left));
            if (eol == nullptr) {
              partial.append(p, left);
              break;
            }
            partial.append(p, static_cast<std::size_t>(eol - p));
            if (r.lines++ == 0) r.first_line = partial;
            r.last_line.swap(partial);
            partial.clear();
            p = eol + 1;
          }
        },
        [&](std::string_view chunk) { r.err += chunk; });
    close(child.out);
    close(child.err);
    rusage usage{};
    while (wait4(child.pid, &r.status, 0, &usage) < 0 && errno == EINTR) {
    }
    r.max_rss_kib = usage.ru_maxrss;
    return r;
  }

  static long own_peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
  }

  static inline fs::path* dir_ = nullptr;
  static inline std::string* path_ = nullptr;
  static inline bool built_ = false;
};

// The first row is written while the rest of the store is still unread: it comes out after a few
// pages were read, not after the whole result (SQLite reads pages with pread: the child's rchar).
void expect_first_row_before_the_last_is_read(const std::string& path) {
  const std::int64_t db_bytes = static_cast<std::int64_t>(fs::file_size(path));
  for (const char* order : {"--json", "--reverse"}) {
    std::vector<std::string> argv{PROCSENTRY_BINARY, "query", "--db", path, order};
    test::Child child = test::start_process(argv[0], argv, piped());
    std::string first;
    char c = 0;
    while (read(child.out, &c, 1) == 1 && c != '\n') first += c;
    ASSERT_FALSE(first.empty());
    // Nothing more is read from the pipe: the child stops at a full pipe whatever it does.
    std::ifstream io("/proc/" + std::to_string(child.pid) + "/io");
    std::int64_t rchar = -1;
    for (std::string key; io >> key;) {
      if (key == "rchar:") {
        io >> rchar;
        break;
      }
    }
    kill(child.pid, SIGKILL);
    test::wait_status(child.pid);
    close(child.out);
    close(child.err);
    ASSERT_GE(rchar, 0);
    EXPECT_LT(rchar, db_bytes / 10) << order << ": read " << rchar << " of " << db_bytes << " bytes before row 1";
  }
}

constexpr long kMaxRssKib = 32 * 1024;  // the issue's bound for any query

// One test (ctest runs each in a process of its own, and the store takes seconds to build).
TEST_F(BigStoreTest, AMillionRowsStreamInBoundedMemoryFirstRowFirst) {
  expect_first_row_before_the_last_is_read(*path_);
  // In time order (the index), and a sort no index gives (SQLite's sorter, which must spill to a
  // temporary file rather than grow). Newest first and the table take the same path.
  const std::vector<std::vector<std::string>> queries = {
      {"--json"}, {"--sql", "SELECT json, argv FROM events ORDER BY argv DESC, id"}};
  for (const auto& args : queries) {
    Run r = run(args);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.lines, static_cast<std::uint64_t>(kEvents)) << args[0];
    if (args[0] == "--json") {
      EXPECT_NE(r.first_line.find("\"pid\":1000,"), std::string::npos) << r.first_line;
      EXPECT_NE(r.last_line.find(fmt::format("\"pid\":{},", 1000 + kBase - 1)), std::string::npos) << r.last_line;
    }
    // Peak RSS of the child (from wait4; at least this process's own at the fork).
    std::printf("query %s: %llu rows, %llu bytes, peak RSS %ld KiB (this test: %ld KiB)\n", args[0].c_str(),
                static_cast<unsigned long long>(r.lines), static_cast<unsigned long long>(r.bytes), r.max_rss_kib,
                own_peak_rss_kib());
    if (!kSanitized) {
      EXPECT_LT(r.max_rss_kib, kMaxRssKib) << args[0];
    }
    EXPECT_EQ(r.err, "");
  }
  Run r = run({"--json", "--reverse", "--limit", "2"});
  EXPECT_EQ(r.lines, 2u);
  EXPECT_NE(r.first_line.find(fmt::format("\"pid\":{}", 1000 + kBase - 1)), std::string::npos) << r.first_line;
  r = run({"--count", "--since", "2026-11-24T12:04:01Z"});
  EXPECT_EQ(r.first_line, std::to_string(kEvents));
}

}  // namespace
}  // namespace procsentry
