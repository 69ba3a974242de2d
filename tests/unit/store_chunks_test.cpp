// Schema 3's time chunks (store_chunks.h) and strings' last_id: lookups by key find the events of
// every chunk (a process, a tree, a text whose events straddle a chunk boundary), each query kind
// giving the rows of a scan of the `events` view; retention deletes the strings no event names
// any more, and only those.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <set>

#include "query_lines.h"
#include "store/event_query.h"
#include "store/event_store.h"
#include "store/store_chunks.h"
#include "store/store_functions.h"
#include "store/store_row.h"
#include "store/store_writer.h"
#include "store/text_search.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kBoot = 1'795'521'841'000'000'000;
constexpr std::int64_t kChunk = std::int64_t{1} << kChunkBits;

class StoreChunksTest : public ::testing::Test {
 protected:
  StoreChunksTest() : dir_(fs::temp_directory_path() / ("store-chunks." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~StoreChunksTest() override { fs::remove_all(dir_); }

  // Process p (0..39): its parent is p / 4 (0 is the root), its image rare for p 7, its user
  // alice for odd p; event i of the run names "needle" in its command line when `needle(i)`.
  void record(EventStore& store, int count, int first_second, const std::function<bool(int)>& needle) {
    StoreWriter sink(store, {}, stderr);
    std::deque<std::string> texts;
    for (int i = 0; i < count; ++i) {
      const int p = i % 40;
      StoreRow row;
      row.time_ns = kBoot + (first_second + i) * 1'000'000'000ll;
      row.pid = static_cast<std::uint32_t>(100 + p);
      row.process_uid = texts.emplace_back(fmt::format("ab-{}", p));
      if (p != 0) row.parent_uid = texts.emplace_back(fmt::format("ab-{}", p / 4));
      row.image = p == 7 ? "/usr/bin/rare" : "/usr/bin/common";
      row.user = p % 2 == 1 ? "alice" : "root";
      row.argv = texts.emplace_back(needle(i) ? fmt::format("run --needle {}", i % 3) : "run -O2");
      row.json = texts.emplace_back(fmt::format(R"({{"p":{},"i":{},"t":{}}})", p, i, first_second + i));
      sink.write(row);
    }
    sink.finish();
    EXPECT_EQ(sink.stored(), static_cast<std::uint64_t>(count));
  }

  // Moves every event (and strings' last_id) `by` ids up, as if that many events had been
  // recorded and deleted before: no store may be open. Rows moved off their repeat blocks
  // (store_chunks.h) are all indexed by image and user again, as migrated rows are.
  void shift_ids(std::int64_t by) {
    exec(
        fmt::format("UPDATE event_rows SET id = id + {0}, first_id = first_id + {0}, image_repeat = NULL, "
                    "user_repeat = NULL; UPDATE strings SET last_id = last_id + {0} WHERE last_id > 0; "
                    "UPDATE body_blocks SET key = key + ({0} << 8)",
                    by));
  }

  void exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  // The JSON of the events where `condition` (SQL on the `events` view) holds, in time order.
  std::vector<std::string> scan(const std::string& condition) {
    QueryOptions q;
    q.sql = "SELECT json FROM events WHERE " + condition + " ORDER BY time_ns, id";
    std::vector<std::string> lines;
    for (const std::string& line : query_json_lines(path_, q)) {
      lines.push_back(line_of_sql_row(line));
    }
    return lines;
  }
  // --sql prints {"json":"<the line, escaped>"}: the line itself (no quote or backslash in ours).
  static std::string line_of_sql_row(const std::string& row) {
    const std::string prefix = "{\"json\":\"";
    std::string inner = row.substr(prefix.size(), row.size() - prefix.size() - 2);
    std::string line;
    for (std::size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] == '\\') ++i;
      line += inner[i];
    }
    return line;
  }

  std::vector<std::string> query(QueryOptions q) { return query_json_lines(path_, std::move(q)); }
  int count_of_strings(const std::string& condition) {
    QueryOptions q;
    q.sql = "SELECT count(*) AS n FROM strings WHERE " + condition;
    auto lines = query(q);
    return lines.size() == 1 ? std::stoi(lines[0].substr(5)) : -1;
  }

  // Every query kind, forwards and backwards, and counted, against the scan.
  void expect_scan(QueryOptions q, const std::string& condition, const std::string& what) {
    auto expected = scan(condition);
    expect_query_as_scanned(path_, std::move(q), std::move(expected), what);
  }
  // --argv TEXT and --image GLOB (with the filters already in `q`), against the scan.
  void expect_argv(const std::string& text, QueryOptions q = {}, const std::string& also = "1") {
    q.argv_substring = text;
    expect_scan(q, fmt::format("{} AND instr(argv, '{}') > 0", also, text), "--argv " + text);
  }
  void expect_image(const std::string& glob, QueryOptions q = {}) {
    q.image_glob = glob;
    expect_scan(q, fmt::format("image GLOB '{}'", glob), "--image " + glob);
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(StoreChunksTest, LookupsByKeyFindTheEventsOfEveryChunk) {
  // 400 events, then moved to straddle the first chunk boundary (the needle on the 10 events
  // around it), then 400 more in the next chunk, by a new writer (as after a restart).
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    record(**store, 400, 0, [](int i) { return i >= 195 && i < 205; });
  }
  shift_ids(kChunk - 200);
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    record(**store, 400, 1000, [](int) { return false; });
  }
  QueryOptions q;
  q.sql = fmt::format(
      "SELECT min(id) >> {0} AS first, max(id) >> {0} AS last, count(DISTINCT id >> {0}) AS chunks FROM event_rows",
      kChunkBits);
  EXPECT_EQ(query_json_lines(path_, q), std::vector<std::string>{R"({"first":0,"last":1,"chunks":2})"});
  q = {};
  q.sql = fmt::format("SELECT count(*) AS n FROM events WHERE instr(argv, 'needle') > 0 AND id < {}", kChunk);
  EXPECT_EQ(query_json_lines(path_, q), std::vector<std::string>{R"({"n":4})"});  // the rest past it

  expect_argv("needle");  // few: through the chunked index
  q = {};
  q.argv_substring = "needle";
  EXPECT_EQ(query(q).size(), 10u);
  expect_argv("-O2");  // most: the time index walked
  expect_image("/usr/bin/rare");
  expect_image("/usr/bin/c*");
  q = {};
  q.users = {"alice"};
  expect_scan(q, "user = 'alice'", "--user alice");
  q.argv_substring = "needle";
  expect_scan(q, "user = 'alice' AND instr(argv, 'needle') > 0", "--user alice --argv needle");
  q = {};
  q.process_uid = "ab-7";  // events in both chunks, two first events (the second writer's)
  expect_scan(q, "process_uid = 'ab-7'", "--process-uid ab-7");
  EXPECT_EQ(query(q).size(), 20u);
  q = {};
  q.pids = {107, 139};
  expect_scan(q, "pid IN (107, 139)", "--pid 107 --pid 139");
  // ab-1's tree: its parent ab-0, its children ab-4..ab-7, their children ab-16..ab-31.
  q = {};
  q.process_uid = "ab-1";
  q.tree = true;
  std::string tree = "'ab-0', 'ab-1'";
  for (int p = 4; p < 8; ++p) tree += fmt::format(", 'ab-{}'", p);
  for (int p = 16; p < 32; ++p) tree += fmt::format(", 'ab-{}'", p);
  expect_scan(q, "process_uid IN (" + tree + ")", "--process-uid ab-1 --tree");
  EXPECT_EQ(query(q).size(), 22u * 20);
  q = {};
  q.since_ns = kBoot + 190'000'000'000;
  q.until_ns = kBoot + 1'010'000'000'000;
  q.argv_substring = "needle";
  expect_scan(q,
              "time_ns >= " + std::to_string(*q.since_ns) + " AND time_ns < " + std::to_string(*q.until_ns) +
                  " AND instr(argv, 'needle') > 0",
              "--since --until --argv needle");
}

// A filter by more strings than a chunk has ids / 4 reads each chunk's entries in turn and tests
// them, rather than probing each chunk for each string (event_query.cpp): the same rows, by
// command line, by image (through its marked rows), both, and by fewer strings (probed).
TEST_F(StoreChunksTest, LookupsByManyStringsReadTheChunksInTurnAndFindTheSameRows) {
  constexpr int kMany = 1 << (kChunkBits - 1);  // strings of each filter below
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    StoreWriter sink(**store, {}, stderr);
    std::deque<std::string> texts;
    for (int i = 0; i < kMany + 400; ++i) {
      const bool many = i % 4 != 0 || i >= 4 * 400;  // 400 events between them name neither
      StoreRow row;
      row.time_ns = kBoot + i * 1'000'000'000ll;
      row.pid = static_cast<std::uint32_t>(100 + i);
      row.process_uid = texts.emplace_back(fmt::format("ab-{}", i));
      row.image = texts.emplace_back(many ? fmt::format("/usr/bin/many-{}", i) : "/usr/bin/few");
      row.user = "root";
      row.argv = texts.emplace_back(many ? fmt::format("run --many {}", i) : "run");
      row.json = texts.emplace_back(fmt::format(R"({{"i":{}}})", i));
      sink.write(row);
    }
    sink.finish();
    ASSERT_EQ(sink.stored(), static_cast<std::uint64_t>(kMany + 400));
  }
  shift_ids(kChunk - 1000);  // over a chunk boundary
  ASSERT_EQ(count_of_strings("instr(text, '--many') > 0"), kMany);
  expect_argv("--many");
  expect_image("/usr/bin/many-*");
  QueryOptions both;
  both.image_glob = "/usr/bin/many-*";
  expect_argv("--many 1", both, "image GLOB '/usr/bin/many-*'");
  expect_image("/usr/bin/many-1*");  // ~1,100 strings: probed
}

// A filter keeping 1 event in 50 (between 1 in 8,192 and 1 in 32): its first rows come from the
// time index walked, the rest from the gathered rows after the last of them (event_query.cpp).
// Wherever the head stops, even between events of one time, the rows are a scan's, each once.
TEST_F(StoreChunksTest, TheFirstRowsComeFromTheTimeIndexAndTheRestFollowThemExactly) {
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    StoreWriter sink(**store, {}, stderr);
    std::deque<std::string> texts;
    for (int i = 0; i < 2000; ++i) {
      StoreRow row;
      // Four events a second; a needle's time is also some others' (ids break the tie), and
      // every 7th event is a second late (ids out of time order).
      row.time_ns = kBoot + (i / 4 + (i % 7 == 0 ? 1 : 0)) * 1'000'000'000ll;
      row.pid = static_cast<std::uint32_t>(100 + i);
      row.process_uid = texts.emplace_back(fmt::format("ab-{}", i));
      row.image = "/usr/bin/common";
      row.user = "root";
      row.argv = i % 50 == 3 ? "run --needle" : "run";
      row.json = texts.emplace_back(fmt::format(R"({{"i":{}}})", i));
      sink.write(row);
    }
    sink.finish();
  }
  const auto all = scan("instr(argv, 'needle') > 0");
  ASSERT_EQ(all.size(), 40u);
  for (const std::uint64_t head :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{3}, std::uint64_t{39}, std::uint64_t{1000}}) {
    for (const bool reverse : {false, true}) {
      for (const std::uint64_t limit : {std::uint64_t{0}, std::uint64_t{2}, std::uint64_t{50}}) {
        QueryOptions q;
        q.argv_substring = "needle";
        q.first_rows_max = head;
        q.reverse = reverse;
        q.limit = limit;
        auto expected = all;
        if (reverse) std::reverse(expected.begin(), expected.end());
        if (limit != 0 && limit < expected.size()) expected.resize(limit);
        EXPECT_EQ(query(q), expected) << "head " << head << " reverse " << reverse << " limit " << limit;
        q.json = false;  // the table: one line each, after the header
        std::string out;
        ASSERT_TRUE(run_query(path_, q, out).has_value());
        EXPECT_EQ(static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')), expected.size() + 1);
      }
    }
  }
}

std::int64_t count_of(const std::string& path, const std::string& sql) {
  QueryOptions q;
  q.sql = "SELECT (" + sql + ") AS n";
  auto lines = query_json_lines(path, q);
  return lines.size() == 1 ? std::stoll(lines[0].substr(5)) : -1;
}

TEST_F(StoreChunksTest, RetentionDeletesTheStringsNoEventNames) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  (*store)->set_string_slack(0);  // exact: a deleted event's strings go with it
  std::deque<std::string> texts;
  auto record_images = [&](int first_second, const std::vector<std::string>& images) {
    StoreWriter sink(**store, {}, stderr);
    for (std::size_t i = 0; i < images.size(); ++i) {
      StoreRow row;
      row.time_ns = kBoot + (first_second + static_cast<int>(i)) * 1'000'000'000ll;
      row.image = texts.emplace_back(images[i]);
      row.argv = texts.emplace_back("arg-of-" + images[i]);
      row.json = texts.emplace_back(fmt::format(R"({{"image":"{}"}})", images[i]));
      sink.write(row);
    }
    sink.finish();
  };
  // Old: gone-image and kept-image; new (a later batch, the writer's string cache warm):
  // kept-image again.
  record_images(1, {"/usr/bin/gone-image", "/usr/bin/kept-image", "/usr/bin/gone-image"});
  record_images(100, {"/usr/bin/kept-image", "/usr/bin/newer-image"});
  auto stored = [&](const std::string& text) {
    return count_of(path_, "SELECT count(*) FROM strings WHERE text = '" + text + "'");
  };
  auto indexed = [&](const std::string& needle) {  // texts the trigram index finds it in
    return count_of(path_,
                    "SELECT count(*) FROM strings_fts WHERE strings_fts MATCH '" + *substring_fts_query(needle) + "'");
  };
  EXPECT_EQ(stored("/usr/bin/gone-image"), 1);
  EXPECT_EQ(indexed("gone-image"), 2);  // the image and its argument
  auto deleted = (*store)->apply_retention(kBoot + 110'000'000'000, 50'000'000'000, 0);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(stored("/usr/bin/gone-image"), 0);
  EXPECT_EQ(stored("arg-of-/usr/bin/gone-image"), 0);
  EXPECT_EQ(indexed("gone-image"), 0);
  EXPECT_EQ(stored("/usr/bin/kept-image"), 1);
  EXPECT_EQ(stored("arg-of-/usr/bin/kept-image"), 1);
  EXPECT_EQ(indexed("kept-image"), 2);
  EXPECT_EQ(stored("/usr/bin/newer-image"), 1);
  EXPECT_EQ(indexed("newer-image"), 2);
  EXPECT_EQ(count_of(path_, "SELECT count(*) FROM strings"), 4);
  EXPECT_EQ(
      sqlite3_exec((*store)->handle(), "INSERT INTO strings_fts (strings_fts, rank) VALUES ('integrity-check', 1)",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  // Every remaining string's last_id is the newest event naming it.
  EXPECT_EQ(count_of(path_,
                     "SELECT count(*) FROM strings s WHERE s.last_id != (SELECT max(e.id) FROM event_rows e WHERE "
                     "+e.image_id = s.id OR +e.argv_id = s.id)"),
            0);
  // A deleted text recorded again is a new string, found again.
  record_images(105, {"/usr/bin/gone-image"});
  QueryOptions q;
  q.image_glob = "/usr/bin/gone-image";
  EXPECT_EQ(query(q), std::vector<std::string>{R"({"image":"/usr/bin/gone-image"})"});
  // Once no event is left, no string is.
  deleted = (*store)->apply_retention(kBoot + 1000'000'000'000, 50'000'000'000, 0);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(count_of(path_, "SELECT count(*) FROM strings"), 0);
  EXPECT_EQ(indexed("-image"), 0);
}

// kStringSlack, with a slack of 8: the writer rewrites a string's last_id only once it is 8
// events old, and retention deletes a string only once it is older than the oldest remaining
// event by more than 8. Fails if either side does not keep to it: the string of the one event
// left would go.
TEST_F(StoreChunksTest, AStringNamedByAnEventStaysAndAnUnusedOneOutlivesItsEventsBySlackAtMost) {
  constexpr std::int64_t kSlack = 8;
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  (*store)->set_string_slack(kSlack);
  std::deque<std::string> texts;
  int second = 0;
  auto record_steady = [&](int count) {  // each event names /usr/bin/steady and an argument of its own
    StoreWriter sink(**store, {}, stderr);
    for (int i = 0; i < count; ++i, ++second) {
      StoreRow row;
      row.time_ns = kBoot + second * 1'000'000'000ll;
      row.image = "/usr/bin/steady";
      row.argv = texts.emplace_back(fmt::format("arg-{}", second));
      row.json = texts.emplace_back(fmt::format(R"({{"s":{}}})", second));
      sink.write(row);
    }
    sink.finish();
  };
  auto scalar = [&](const std::string& sql) { return count_of(path_, sql); };
  auto steady_last_id = [&] { return scalar("SELECT last_id FROM strings WHERE text = '/usr/bin/steady'"); };
  auto keep_newest = [&] {  // deletes all but the newest event
    auto deleted = (*store)->apply_retention(kBoot + second * 1'000'000'000ll, 1'000'000'000, 0);
    ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
    EXPECT_EQ(scalar("SELECT count(*) FROM event_rows"), 1);
  };
  for (const int count : {30, 21}) {  // the second round after retention emptied the writer's cache
    record_steady(count);
    const std::int64_t newest = scalar("SELECT max(id) FROM event_rows");
    // The writer skipped rewrites (the newest use is not written), and lags by the slack at most.
    EXPECT_LT(steady_last_id(), newest);
    EXPECT_GE(steady_last_id(), newest - kSlack);
    keep_newest();
    QueryOptions q;
    q.image_glob = "/usr/bin/steady";
    EXPECT_EQ(query(q), std::vector<std::string>{fmt::format(R"({{"s":{}}})", second - 1)});
    // The deleted events' arguments: those of the last kSlack events before the newest linger.
    EXPECT_EQ(scalar("SELECT count(*) FROM strings WHERE text LIKE 'arg-%'"), kSlack + 1);
    EXPECT_EQ(scalar(fmt::format("SELECT min(last_id) FROM strings WHERE text LIKE 'arg-%'")), newest - kSlack);
  }
}

}  // namespace
}  // namespace procsentry
