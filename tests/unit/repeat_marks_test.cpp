// Schema 5's repeat marks (repeat_marks.h): the image and user indexes hold a block's first row
// with each value; lookups by --image and --user still give every row a scan of the `events`
// view gives (forwards, backwards, counted), through those indexes, after retention deleted a
// block's marked rows, after an abandoned batch, and with a second writer in the same block.
#include "store/repeat_marks.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>

#include "query_lines.h"
#include "store/event_query.h"
#include "store/event_store.h"
#include "store/store_chunks.h"
#include "store/store_row.h"
#include "store/store_writer.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kBoot = 1'795'521'841'000'000'000;
constexpr std::int64_t kSecond = 1'000'000'000;

class RepeatMarksTest : public ::testing::Test {
 protected:
  RepeatMarksTest() : dir_(fs::temp_directory_path() / ("repeat-marks." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~RepeatMarksTest() override { fs::remove_all(dir_); }

  // Event i at boot + i s: image a, b or c in turn (rare every 50th), user alice or bob (carol
  // every 97th, none for every third); the needle in some command lines.
  StoreRow row(int i) {
    StoreRow e;
    e.time_ns = kBoot + i * kSecond;
    e.pid = static_cast<std::uint32_t>(1000 + i);
    const char* images[] = {"/usr/bin/a", "/usr/bin/b", "/usr/bin/c"};
    e.image = i % 50 == 7 ? "/usr/bin/rare" : images[i % 3];
    e.user = i % 97 == 5 ? "carol" : i % 3 == 2 ? "" : i % 2 == 0 ? "alice" : "bob";
    e.argv = i % 10 == 3 ? "run --needle" : "run";
    e.json = texts_.emplace_back(fmt::format(R"({{"i":{}}})", i));
    return e;
  }
  void record(EventStore& store, int first, int count) {
    StoreWriter sink(store, {}, stderr);
    for (int i = first; i < first + count; ++i) sink.write(row(i));
    sink.finish();
    EXPECT_EQ(sink.stored(), static_cast<std::uint64_t>(count));
  }

  std::vector<std::string> query(QueryOptions q) { return query_json_lines(path_, std::move(q)); }
  std::vector<std::string> scan(const std::string& condition) {
    QueryOptions q;
    q.sql = "SELECT json FROM events WHERE " + condition + " ORDER BY time_ns, id";
    std::vector<std::string> lines;
    for (const std::string& line : query(q)) lines.push_back(line.substr(9, line.size() - 11));  // {"json":"..."}
    for (std::string& line : lines) line.erase(std::remove(line.begin(), line.end(), '\\'), line.end());
    return lines;
  }
  std::int64_t value(const std::string& sql) {
    QueryOptions q;
    q.sql = "SELECT (" + sql + ") AS n";
    auto lines = query(q);
    return lines.size() == 1 ? std::stoll(lines[0].substr(5)) : -1;
  }

  // Each query, forwards, backwards and counted, against the scan.
  void expect_scan(QueryOptions q, const std::string& condition, const std::string& what) {
    auto expected = scan(condition);
    EXPECT_FALSE(expected.empty()) << what;
    expect_query_as_scanned(path_, std::move(q), std::move(expected), what);
  }
  void expect_every_lookup_exact(const std::string& when) {
    for (const char* image : {"/usr/bin/a", "/usr/bin/rare", "/usr/bin/*"}) {
      QueryOptions q;
      q.image_glob = image;
      expect_scan(q, fmt::format("image GLOB '{}'", image), fmt::format("--image {} {}", image, when));
    }
    for (const char* user : {"alice", "carol"}) {
      QueryOptions q;
      q.users = {user};
      expect_scan(q, fmt::format("user = '{}'", user), fmt::format("--user {} {}", user, when));
    }
    QueryOptions q;
    q.image_glob = "/usr/bin/b";
    q.users = {"bob", "carol"};
    expect_scan(q, "image = '/usr/bin/b' AND user IN ('bob', 'carol')", "--image b --user bob --user carol " + when);
    q.argv_substring = "needle";
    expect_scan(q, "image = '/usr/bin/b' AND user IN ('bob', 'carol') AND instr(argv, 'needle') > 0",
                "--image b --user bob --user carol --argv needle " + when);
    // The earliest row of a value in each block is marked.
    for (const char* key : {"image", "user"}) {
      EXPECT_EQ(value(fmt::format("SELECT count(*) FROM event_rows e WHERE e.{0}_repeat IS NOT NULL AND NOT EXISTS "
                                  "(SELECT 1 FROM event_rows f WHERE f.id >> {1} = e.id >> {1} AND f.id < e.id AND "
                                  "f.{0}_id = e.{0}_id)",
                                  key, kRepeatBlockBits)),
                0)
          << key << " " << when;
    }
  }

  fs::path dir_;
  std::string path_;
  std::deque<std::string> texts_;
};

TEST_F(RepeatMarksTest, LookupsFindEveryRowOfABlockThroughItsMarkedRows) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  record(**store, 0, 700);  // ids 1..700: blocks 0, 1, 2
  // Of a block, one entry per image and user: 4 images, 3 users.
  EXPECT_EQ(value("SELECT count(*) FROM event_rows WHERE image_repeat IS NULL"), 3 * 4);
  EXPECT_EQ(value("SELECT count(*) FROM event_rows WHERE user_repeat IS NULL AND user_id IS NOT NULL"), 3 * 3);
  expect_every_lookup_exact("");
  // Through the partial indexes: no scan of event_rows.
  for (const bool by_user : {false, true}) {
    QueryOptions q;
    if (by_user) {
      q.users = {"carol"};
    } else {
      q.image_glob = "/usr/bin/rare";
    }
    for (const bool count : {false, true}) {
      q.count = count;
      auto plan = query_plan(path_, q);
      ASSERT_TRUE(plan.has_value()) << plan.error().message;
      std::string lines;
      for (const std::string& line : *plan) lines += line + "\n";
      EXPECT_NE(lines.find(by_user ? "USING INDEX event_rows_user (<expr>=? AND user_id=?)"
                                   : "USING INDEX event_rows_image (<expr>=? AND image_id=?)"),
                std::string::npos)
          << lines;
      for (const std::string& line : *plan) {
        EXPECT_TRUE(line.rfind("SCAN e", 0) != 0 && line.rfind("SCAN event_rows", 0) != 0) << lines;
      }
    }
  }
}

TEST_F(RepeatMarksTest, RetentionMarksTheNextRowOfABlockWhenItDeletesAMarkedOne) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  record(**store, 0, 700);
  // Events 0..9 go (ids 1..10: the marked rows of block 0's images and users), then by steps
  // of a transaction each, past block 1's start.
  auto deleted = (*store)->apply_retention(kBoot + 1000 * kSecond, 990 * kSecond, 0);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_EQ(*deleted, 10);
  expect_every_lookup_exact("after retention of 10");
  deleted = (*store)->apply_retention(kBoot + 1000 * kSecond, 700 * kSecond, 0);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_EQ(*deleted, 290);
  expect_every_lookup_exact("after retention of 300");
  // The writer goes on in the block retention last touched: nothing it knew is gone unseen.
  record(**store, 700, 100);
  expect_every_lookup_exact("after more");
}

TEST_F(RepeatMarksTest, AnAbandonedBatchLeavesNoMarkBehind) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*store)->insert(row(i)).has_value());
  (*store)->rollback();  // the images and users of ids 1..10 were never stored
  record(**store, 10, 100);
  EXPECT_EQ(value("SELECT min(id) FROM event_rows"), 1);
  expect_every_lookup_exact("after a rollback");
}

TEST_F(RepeatMarksTest, ASecondWriterInTheSameBlockKeepsLookupsExact) {
  for (int first : {0, 40, 80}) {  // each its own store: its block's values marked again
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    record(**store, first, 40);
  }
  EXPECT_GT(value("SELECT count(*) FROM event_rows WHERE image_repeat IS NULL"), 4);
  expect_every_lookup_exact("after three writers");
}

// A lookup's plan, whatever the chunks named (a 10 M-event store names 1,221): a block's rows by
// rowid; the marked rows probed per value, or (scan) each chunk's entries read and tested. For
// 1,221 chunks SQLite once built an automatic index of every row instead (minutes at 10 M).
TEST_F(RepeatMarksTest, ABlocksRowsAreReadByRowidHoweverManyChunksAreNamed) {
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    record(**store, 0, 40);
  }
  for (const int chunks : {1, 1221}) {
    StoreChunks named;
    named.list = "0";
    for (int chunk = 1; chunk < chunks; ++chunk) named.list += fmt::format(",{}", chunk);
    for (const bool scanned : {false, true}) {
      const MarkedRowsSql marked = marked_rows_sql("image", "IN (1, 2)", named, "e", scanned);
      QueryOptions q;
      q.sql = fmt::format("EXPLAIN QUERY PLAN SELECT e.id FROM {} WHERE {}", marked.from, marked.where);
      std::string plan;
      for (const std::string& line : query(q)) plan += line + "\n";
      const std::string what = fmt::format("{} chunks, scanned {}: {}", chunks, scanned, plan);
      EXPECT_EQ(plan.find("AUTOMATIC"), std::string::npos) << what;
      EXPECT_NE(plan.find("SEARCH e USING INTEGER PRIMARY KEY"), std::string::npos) << what;
      const std::string by_value = "SEARCH e_mark USING INDEX event_rows_image (<expr>=? AND image_id=?)";
      // IS NOT NULL: the chunk's entries from the first non-null value on.
      const std::string by_chunk = "SEARCH e_mark USING INDEX event_rows_image (<expr>=? AND image_id>?)";
      EXPECT_NE(plan.find(scanned ? by_chunk : by_value), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace procsentry
