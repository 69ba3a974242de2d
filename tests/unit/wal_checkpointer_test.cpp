// The WAL checkpointed on its own thread and connection (wal_checkpointer.h) while the store
// commits and readers read: checkpoints complete, the WAL is reused from its start instead of
// growing, every committed event is there and the database is intact. Run under TSan too.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "sql_value.h"
#include "store/event_store.h"
#include "store/store_row.h"
#include "store/store_writer.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;

class WalCheckpointerTest : public ::testing::Test {
 protected:
  WalCheckpointerTest() : dir_(fs::temp_directory_path() / ("wal-checkpointer." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~WalCheckpointerTest() override { fs::remove_all(dir_); }

  // `count` events in one commit, each with its own command line (new strings, FTS entries).
  static void record(StoreWriter& sink, int first, int count) {
    std::deque<std::string> texts;
    for (int i = first; i < first + count; ++i) {
      StoreRow row;
      row.time_ns = 1'795'521'841'000'000'000 + i * 1'000'000ll;
      row.pid = static_cast<std::uint32_t>(1000 + i % 97);
      row.process_uid = texts.emplace_back(fmt::format("p-{}", i % 97));
      row.image = "/usr/bin/make";
      row.argv = texts.emplace_back(fmt::format("make -C dir-{} target-{}", i % 500, i));
      row.json = texts.emplace_back(fmt::format(R"({{"event":"exec","seq":{},"argv":"make target-{}"}})", i, i));
      sink.write(row);
    }
    sink.finish();
  }

  static std::int64_t one(sqlite3* db, const char* sql) { return test::sql_int(db, sql); }

  fs::path dir_;
  std::string path_;
};

TEST_F(WalCheckpointerTest, CheckpointsWhileTheStoreCommitsAndReadersRead) {
  constexpr int kPages = 8;  // 128 KiB of 16 KiB pages: a few commits each
  auto store = EventStore::open(path_, kPages);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  // Readers hold snapshots while the checkpointer copies and the writer appends.
  auto reader = [&] {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    while (!done.load()) {
      EXPECT_GE(one(db, "SELECT count(*) FROM event_rows"), 0) << sqlite3_errmsg(db);
      reads.fetch_add(1);
    }
    sqlite3_close(db);
  };
  std::thread readers[] = {std::thread(reader), std::thread(reader)};
  StoreWriter sink(**store, {}, stderr);
  int events = 0;
  // Commits until the thread has completed a few checkpoints (and the readers have read), with
  // an upper bound that names what failed.
  for (int commits = 0; commits < 2000 && ((*store)->background_checkpoints() < 5 || reads.load() < 10); ++commits) {
    record(sink, events, 200);
    events += 200;
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_GE((*store)->background_checkpoints(), 5u) << "after " << events << " events";
  EXPECT_EQ(sink.stored(), static_cast<std::uint64_t>(events));
  EXPECT_EQ(sink.dropped(), 0u);
  // Without readers on old snapshots the WAL starts over: after 60 more commits (about 14
  // pages each) it holds about what the last commits wrote since the last restart.
  for (int commits = 0; commits < 60; ++commits) {
    record(sink, events, 200);
    events += 200;
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    int frames = -1, copied = -1;
    EXPECT_EQ(sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied), SQLITE_OK);
    EXPECT_LT(frames, kPages * EventStore::kCheckpointLag + 100) << events << " events written";
    sqlite3_close(db);
  }
  store->reset();
  EXPECT_FALSE(fs::exists(path_ + "-wal"));  // the last connection checkpointed and removed it
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  EXPECT_EQ(one(db, "SELECT count(*) FROM event_rows"), events);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "ok");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// The recorder's retention (and the open batch it commits first) waits while the checkpointer has
// a checkpoint due or running, so the WAL starts over between its transactions: it stays under
// kCheckpointLag times the checkpointer's threshold and the writer never copies it itself in a
// commit (before, retention's back-to-back transactions kept the WAL from starting over, and
// the writer copied it in its commits, the recording's longest pauses). Nothing is lost.
TEST_F(WalCheckpointerTest, RetentionWaitsForTheCheckpointerSoThatTheWriterNeverCopies) {
  constexpr int kPages = 100;
  auto store = EventStore::open(path_, kPages);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  const std::int64_t hour = 3600'000'000'000;
  int events = 0;
  {
    // 20,000 events of 2026-11-24, a process's fork, exec and exit each (a retention chunk
    // rewrites a few pages: none crosses kCheckpointLag alone), with their own command lines.
    StoreWriter old(**store, {}, stderr);
    std::deque<std::string> texts;
    for (; events < 20'000; ++events) {
      StoreRow row;
      row.time_ns = 1'795'521'841'000'000'000 + events * 1'000'000ll;
      row.pid = static_cast<std::uint32_t>(1000 + events / 3);
      row.process_uid = texts.emplace_back(fmt::format("p-{}", events / 3));
      row.image = "/usr/bin/make";
      row.argv = texts.emplace_back(fmt::format("make target-{}", events / 3));
      row.json = R"({"event":"exec"})";
      old.write(row);
    }
  }
  const std::uint64_t copied_before = (*store)->writer_checkpoints();
  // Keep the last hour: every event above goes, while new ones are recorded.
  StoreWriter sink(**store, RetentionOptions{hour, 0}, stderr);
  const auto left = [&] {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    const std::int64_t n = one(db, "SELECT count(*) FROM event_rows WHERE time_ns < 1795521841000000000 + 20000000000");
    sqlite3_close(db);
    return n;
  };
  std::uint64_t recorded = 0;
  bool waited = false;
  bool restarted = false;
  int last_pages = (*store)->wal_pages();
  int most_wal_pages = 0;
  std::vector<int> seen;  // the WAL's length after each commit (printed if too long)
  StoreRow row;
  row.image = "/usr/bin/new";
  row.json = R"({"event":"exec"})";
  // An event per 100 ticks (polls that delivered nothing between), which the writer commits
  // every kCommitInterval, as `record` at a modest rate. Polled, with a bound.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (left() > 0 && std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 100; ++i) {
      row.time_ns = ClockMapping::now_epoch_ns();
      sink.write(row);
      ++recorded;
      for (int t = 0; t < 100; ++t) {
        waited = waited || (*store)->checkpoint_pending();
        sink.tick({});
        const int pages = (*store)->wal_pages();
        restarted = restarted || pages < last_pages;  // shorter: it started over (the setup left it longer)
        last_pages = pages;
        if (restarted && pages != (seen.empty() ? -1 : seen.back())) seen.push_back(pages);
        if (restarted) most_wal_pages = std::max(most_wal_pages, pages);
      }
    }
  }
  sink.finish();
  EXPECT_EQ(left(), 0);
  EXPECT_TRUE(waited) << "the checkpointer never had a checkpoint due: the test shows nothing";
  EXPECT_EQ((*store)->writer_checkpoints(), copied_before);
  // The WAL started over again and again: without the held rows it grew by each commit (a
  // batch began before the checkpoint its predecessor asked for had ended). A slow checkpoint
  // (a loaded machine) lets a batch through after kCommitInterval, which the WAL's next
  // checkpoint takes with it.
  EXPECT_TRUE(restarted);
  EXPECT_LT(most_wal_pages, 4 * kPages) << ::testing::PrintToString(seen);
  EXPECT_EQ(sink.stored(), recorded);
  EXPECT_EQ(sink.dropped(), 0u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  EXPECT_EQ(one(db,
                "SELECT count(*) FROM event_rows e JOIN strings s ON s.id = e.image_id WHERE s.text = "
                "'/usr/bin/new'"),
            static_cast<std::int64_t>(recorded));
  EXPECT_EQ(one(db, "SELECT count(*) FROM event_rows"), static_cast<std::int64_t>(recorded));
  sqlite3_close(db);
}

// A store opened and closed while its checkpointer may be mid-checkpoint: no race, no leak
// (ASan, TSan), the data kept.
TEST_F(WalCheckpointerTest, ClosesWhileCheckpointing) {
  int events = 0;
  for (int round = 0; round < 10; ++round) {
    auto store = EventStore::open(path_, 1);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    StoreWriter sink(**store, {}, stderr);
    for (int commits = 0; commits < 5; ++commits) {
      record(sink, events, 100);
      events += 100;
    }
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  EXPECT_EQ(one(db, "SELECT count(*) FROM event_rows"), events);
  sqlite3_close(db);
}

}  // namespace
}  // namespace procsentry
