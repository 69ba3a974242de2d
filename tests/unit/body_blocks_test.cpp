// Schema 6's body blocks (body_block.h): the block layout read back and refused when corrupt,
// the frame's parts, and in a store: every event read back from its block after retention
// deleted part of it, no block left behind that no event needs, a reader that read a block
// before the store was emptied and its ids started over, and a damaged block reported.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "sql_value.h"
#include "store/body_block.h"
#include "store/event_store.h"
#include "store/store_functions.h"
#include "store/store_row.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;

TEST(BodyBlock, BodiesOfConsecutiveIdsSplitBackExactly) {
  BodyBlockBuilder block;
  const std::vector<std::string> bodies = {"{\"a\":1}", "", std::string("x\0y", 3), std::string(70'000, 'z')};
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    ASSERT_TRUE(block.takes(static_cast<std::int64_t>(10 + i), bodies[i]));
    block.add(static_cast<std::int64_t>(10 + i), bodies[i]);
  }
  EXPECT_EQ(block.first_id(), 10);
  EXPECT_EQ(block.next_id(), 14);
  EXPECT_FALSE(block.takes(15, "{}"));                               // not the next id
  EXPECT_FALSE(block.takes(14, std::string(kBodyBlockBytes, 'q')));  // no room left
  auto split = split_body_block(block.bytes(), 4);
  ASSERT_TRUE(split.has_value()) << split.error().message;
  ASSERT_EQ(split->size(), bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) EXPECT_EQ((*split)[i], bodies[i]) << i;
  block.clear();
  EXPECT_TRUE(block.empty());
  EXPECT_TRUE(block.takes(99, std::string(kBodyBlockBytes * 2, 'q')));  // an empty block takes any one
}

TEST(BodyBlock, IsFullAtItsCount) {
  BodyBlockBuilder block;
  for (std::size_t i = 0; i < kBodyBlockEvents; ++i) {
    EXPECT_FALSE(block.full());
    ASSERT_TRUE(block.takes(static_cast<std::int64_t>(i + 1), "{}"));
    block.add(static_cast<std::int64_t>(i + 1), "{}");
  }
  EXPECT_TRUE(block.full());
  EXPECT_FALSE(block.takes(static_cast<std::int64_t>(kBodyBlockEvents + 1), "{}"));
}

TEST(BodyBlock, RefusesCorruptLayouts) {
  BodyBlockBuilder block;
  block.add(1, "{\"event\":\"exec\"}");
  block.add(2, "{}");
  const std::string good(block.bytes());
  ASSERT_TRUE(split_body_block(good, 2).has_value());
  const std::pair<std::string, std::int64_t> bad[] = {
      {good, 3},                               // more events than it holds
      {good, 1},                               // bytes after its last event
      {good, 0},                               // no event
      {good, kBodyBlockEvents + 1},            // more than a block holds
      {good.substr(0, good.size() - 1), 2},    // the last body cut short
      {good.substr(0, 2), 1},                  // a length cut short
      {std::string("\xff\xff\xff\xff{}"), 1},  // a length past the end
  };
  for (const auto& [bytes, count] : bad) {
    auto split = split_body_block(bytes, count);
    EXPECT_FALSE(split.has_value()) << count << " " << bytes.size();
    if (!split) {
      EXPECT_NE(split.error().message.find("corrupt body block"), std::string::npos);
    }
  }
}

TEST(BodyBlock, AFrameIsStoredInPartsThatAddUpToIt) {
  EXPECT_TRUE(body_part_sizes(0).empty());
  EXPECT_EQ(body_part_sizes(1), std::vector<std::size_t>{1});
  EXPECT_EQ(body_part_sizes(kBodyPartBytes), std::vector<std::size_t>{kBodyPartBytes});
  EXPECT_EQ(body_part_sizes(kBodyPartBytes + 1), (std::vector<std::size_t>{kBodyPartBytes, 1}));
  for (std::size_t frame : {std::size_t{12'345}, std::size_t{1} << 20, std::size_t{50} << 20}) {
    const auto sizes = body_part_sizes(frame);
    EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}), frame);
    EXPECT_LE(sizes.size(), std::size_t{1} << kBodyPartBits) << frame;  // the key has room for each
  }
  EXPECT_EQ(body_part_key(5, 3), (5 << kBodyPartBits) + 3);
  EXPECT_EQ(body_block_of_key(body_part_key(5, 3)), 5);
}

class BodyBlocksInAStore : public ::testing::Test {
 protected:
  BodyBlocksInAStore() : dir_(fs::temp_directory_path() / ("body_blocks." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~BodyBlocksInAStore() override { fs::remove_all(dir_); }

  // `n` events at times from `time_ns`, each JSON naming its number, committed; their JSON.
  std::vector<std::string> insert(EventStore& store, int n, std::int64_t time_ns, const std::string& tag) {
    std::vector<std::string> lines;
    for (int i = 0; i < n; ++i) {
      lines.push_back("{\"event\":\"exec\",\"tag\":\"" + tag + "\",\"n\":" + std::to_string(i) + "}");
      StoreRow row;
      row.time_ns = time_ns + i;
      row.json = lines.back();
      auto r = store.insert(row);
      EXPECT_TRUE(r.has_value()) << r.error().message;
    }
    auto r = store.commit();
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return lines;
  }

  static std::vector<std::string> json_by_id(sqlite3* db, std::string* error = nullptr) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT json FROM events ORDER BY id", -1, &stmt, nullptr), SQLITE_OK);
    std::vector<std::string> lines = step_json(stmt, error);
    sqlite3_finalize(stmt);
    return lines;
  }

  // The JSON lines of a statement's rows, stepped to its end, then reset.
  static std::vector<std::string> step_json(sqlite3_stmt* stmt, std::string* error = nullptr) {
    std::vector<std::string> lines;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      lines.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    if (rc != SQLITE_DONE && error != nullptr) *error = sqlite3_errmsg(sqlite3_db_handle(stmt));
    sqlite3_reset(stmt);
    return lines;
  }

  sqlite3* reader() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    register_store_functions(db);
    return db;
  }

  static std::int64_t scalar(EventStore& store, const std::string& sql) { return test::sql_int(store.handle(), sql); }

  fs::path dir_;
  std::string path_;
};

// Retention by time deletes part of a block: the block stays for the events left in it, the
// blocks before it go, and every remaining event reads back; once no event is left, no block is.
TEST_F(BodyBlocksInAStore, RetentionKeepsTheBlocksItsEventsNeedAndNoOther) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  constexpr int kOld = 1000;  // not a multiple of the block: the oldest kept event is mid-block
  constexpr std::int64_t kNow = 1'800'000'000'000'000'000;
  std::vector<std::string> old = insert(**store, kOld, kNow - 7'200'000'000'000, "old");
  std::vector<std::string> recent =
      insert(**store, 3 * static_cast<int>(kBodyBlockEvents), kNow - 60'000'000'000, "new");
  ASSERT_GT(scalar(**store, "SELECT count(*) FROM body_blocks WHERE key & 255 = 0"), 8);
  // Half the old events: deletion by time stops mid-block.
  auto deleted = (*store)->apply_retention(kNow - 7'200'000'000'000 + kOld / 2 + 1, 1, 0);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_EQ(*deleted, kOld / 2);
  const std::int64_t oldest = scalar(**store, "SELECT min(id) FROM event_rows");
  EXPECT_NE((oldest - 1) % static_cast<std::int64_t>(kBodyBlockEvents), 0);  // mid-block indeed
  // No block ends before the oldest event; the one holding it is there.
  EXPECT_EQ(scalar(**store, "SELECT count(*) FROM body_blocks WHERE (key >> 8) + count <= " + std::to_string(oldest)),
            0);
  EXPECT_EQ(scalar(**store, "SELECT min(key >> 8) FROM body_blocks"),
            scalar(**store, "SELECT max(key >> 8) FROM body_blocks WHERE (key >> 8) <= " + std::to_string(oldest)));
  sqlite3* db = reader();
  std::vector<std::string> expected(old.begin() + kOld / 2, old.end());
  expected.insert(expected.end(), recent.begin(), recent.end());
  std::string error;
  EXPECT_EQ(json_by_id(db, &error), expected);
  EXPECT_EQ(error, "");
  sqlite3_close(db);
  // All of it.
  deleted = (*store)->apply_retention(kNow + 1, 1, 0);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_EQ(scalar(**store, "SELECT count(*) FROM event_rows"), 0);
  EXPECT_EQ(scalar(**store, "SELECT count(*) FROM body_blocks"), 0);
}

// A statement's reader keeps the block it read last: once the store was emptied and ids
// started over, the same id is another event in another block, and the statement stepped again
// must not answer from its copy.
TEST_F(BodyBlocksInAStore, AReaderSeesNewEventsUnderIdsThatStartedOver) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  constexpr std::int64_t kNow = 1'800'000'000'000'000'000;
  const std::vector<std::string> first = insert(**store, 10, kNow - 7'200'000'000'000, "first");
  sqlite3* db = reader();
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT json FROM events ORDER BY id", -1, &stmt, nullptr), SQLITE_OK);
  EXPECT_EQ(step_json(stmt), first);
  ASSERT_TRUE((*store)->apply_retention(kNow, 1, 0).has_value());
  ASSERT_EQ(scalar(**store, "SELECT count(*) FROM event_rows"), 0);
  const std::vector<std::string> second = insert(**store, 10, kNow, "second");
  ASSERT_EQ(scalar(**store, "SELECT min(id) FROM event_rows"), 1);  // the same ids again
  EXPECT_EQ(step_json(stmt), second);
  EXPECT_EQ(json_by_id(db), second);  // and a new statement
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// A block damaged on disk: the query says which block and why, and the events of other
// blocks still read back.
TEST_F(BodyBlocksInAStore, ADamagedBlockIsReportedNotRead) {
  std::vector<std::string> lines;
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    lines = insert(**store, 2 * static_cast<int>(kBodyBlockEvents), 1'800'000'000'000'000'000, "x");
    ASSERT_EQ(scalar(**store, "SELECT count(*) FROM body_blocks WHERE key & 255 = 0"), 2);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE body_blocks SET bytes = substr(bytes, 1, 5) WHERE key = (SELECT max(key) FROM "
                         "body_blocks)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  db = reader();
  std::string error;
  const std::vector<std::string> read = json_by_id(db, &error);
  EXPECT_EQ(read, std::vector<std::string>(lines.begin(), lines.begin() + kBodyBlockEvents));
  EXPECT_NE(error.find("procsentry_json: body block " + std::to_string(kBodyBlockEvents + 1)), std::string::npos)
      << error;
  sqlite3_close(db);
}

}  // namespace
}  // namespace procsentry
