// Schema 2 of the event store: every event's JSON read back byte for byte through the
// `events` view (the whole hostile corpus, before and after the dictionary, in body blocks of
// one part and of several), each text stored
// once and its trigram index in step, retention deleting strings no event names, and an
// abandoned batch leaving no ids behind in the writer's caches.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.h"
#include "full_event.h"
#include "hostile_events.h"
#include "store/body_codec.h"
#include "store/event_store.h"
#include "store/store_functions.h"
#include "store/store_row.h"
#include "store/store_writer.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;

// What an event must read back as: its row's columns and its JSON, owned.
struct Expected {
  std::string event, user, process_uid, parent_uid, image, argv, parent_image, hash, json;
  std::int64_t time_ns = 0, error = 0;
};

std::string text_of(sqlite3_stmt* stmt, int column) {
  const void* bytes = sqlite3_column_blob(stmt, column);
  return bytes == nullptr ? std::string()
                          : std::string(static_cast<const char*>(bytes),
                                        static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
}

class StoreCompaction : public ::testing::Test {
 protected:
  StoreCompaction() : dir_(fs::temp_directory_path() / ("store_compaction." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~StoreCompaction() override { fs::remove_all(dir_); }

  // Writes `e` as `record` does (packed by StoreRowFormatter on the event thread, parsed on
  // the store's) and remembers what it must read back as.
  void write(StoreWriter& sink, const Event& e) {
    std::string bytes;
    format_.append(bytes, e);
    auto row = StoreRow::parse(bytes);
    ASSERT_TRUE(row.has_value());
    sink.write(*row);
    Expected x;
    x.event = to_string(row->kind);
    x.user = row->user;
    x.process_uid = row->process_uid;
    x.parent_uid = row->parent_uid;
    x.image = row->image;
    x.argv = row->argv;
    x.parent_image = row->parent_image;
    x.hash = row->hash;
    x.json = row->json;
    x.time_ns = row->time_ns;
    x.error = row->error;
    expected_.push_back(std::move(x));
  }

  // Every event through the view, in order, as it was written.
  void expect_all_read_back() {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    register_store_functions(db);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT event, user, process_uid, parent_uid, image, argv, parent_image, hash, json, "
                                 "time_ns, error FROM events ORDER BY id",
                                 -1, &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    std::size_t i = 0;
    int rc = SQLITE_ROW;
    for (; (rc = sqlite3_step(stmt)) == SQLITE_ROW; ++i) {
      ASSERT_LT(i, expected_.size());
      const Expected& x = expected_[i];
      ASSERT_EQ(text_of(stmt, 8), x.json) << "event " << i;  // byte for byte
      EXPECT_EQ(text_of(stmt, 0), x.event) << i;
      EXPECT_EQ(text_of(stmt, 1), x.user) << i;
      EXPECT_EQ(text_of(stmt, 2), x.process_uid) << i;
      EXPECT_EQ(text_of(stmt, 3), x.parent_uid) << i;
      EXPECT_EQ(text_of(stmt, 4), x.image) << i;
      EXPECT_EQ(text_of(stmt, 5), x.argv) << i;
      EXPECT_EQ(text_of(stmt, 6), x.parent_image) << i;
      EXPECT_EQ(text_of(stmt, 7), x.hash) << i;
      EXPECT_EQ(sqlite3_column_int64(stmt, 9), x.time_ns) << i;
      EXPECT_EQ(sqlite3_column_int64(stmt, 10), x.error) << i;
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
    EXPECT_EQ(i, expected_.size());
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }

  // One scalar from the store, through a connection of its own.
  std::int64_t scalar(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    register_store_functions(db);
    sqlite3_stmt* stmt = nullptr;
    std::int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  // The trigram index agrees with `strings` (FTS5's own check, against the content table).
  void expect_index_in_step(EventStore& store) {
    char* message = nullptr;
    const int rc =
        sqlite3_exec(store.handle(), "INSERT INTO strings_fts (strings_fts, rank) VALUES ('integrity-check', 1)",
                     nullptr, nullptr, &message);
    EXPECT_EQ(rc, SQLITE_OK) << (message != nullptr ? message : "");
    sqlite3_free(message);
  }

  fs::path dir_;
  std::string path_;
  StoreRowFormatter format_;
  std::deque<Expected> expected_;
  std::deque<std::string> keep_;  // texts the events view
};

TEST_F(StoreCompaction, TheWholeHostileCorpusReadsBackByteForByte) {
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    StoreWriter sink(**store, {}, stderr);
    for (EventKind kind : test::kKinds) write(sink, FullEvent(kind).event);
    for (const std::string& bytes : test::hostile_texts()) {
      FullEvent full(EventKind::exec);
      full.event.image = full.event.parent_image = Text{bytes, true, false, 0};
      full.event.argv = {bytes, bytes};
      full.event.user = bytes;
      write(sink, full.event);
    }
    // Enough events for a dictionary part way: rows before it have none, the others use it.
    test::Generator g(20261126);
    std::vector<std::string> keep;
    // The dictionary is trained on a thread of its own (dictionary_trainer.h): events go on
    // until it is in use, and 2,000 more.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::size_t after = 0;
    for (std::size_t i = 0; after < 2000 && std::chrono::steady_clock::now() < deadline; ++i) {
      write(sink, test::random_event(g, test::kKinds[g.pick(std::size(test::kKinds))], keep));
      if (i % 1000 == 0) sink.tick({});
      if (i >= EventStore::kDictionarySamples && (*store)->dictionary_id() > 0) ++after;
    }
    sink.finish();
    EXPECT_EQ(sink.stored(), expected_.size());
    EXPECT_GT((*store)->dictionary_id(), 0);
    expect_index_in_step(**store);
  }
  EXPECT_EQ(scalar("SELECT count(DISTINCT dict_id) FROM body_blocks"), 2);
  EXPECT_GT(scalar("SELECT count(*) FROM body_blocks WHERE key & 255 > 0"), 0);  // blocks of several parts too
  {
    // Reopened, the store goes on with its newest dictionary.
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    EXPECT_GT((*store)->dictionary_id(), 0);
    StoreWriter sink(**store, {}, stderr);
    for (EventKind kind : test::kKinds) write(sink, FullEvent(kind).event);
  }
  expect_all_read_back();
}

TEST_F(StoreCompaction, EachTextIsStoredOnce) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  {
    StoreWriter sink(**store, {}, stderr);
    for (int i = 0; i < 300; ++i) {
      FullEvent full(EventKind::exec);
      full.event.task.pid = static_cast<std::uint32_t>(1000 + i);
      full.event.image = Text{i % 2 == 0 ? "/usr/bin/ls" : "/usr/bin/cat", true, false, 0};
      full.event.parent_image = Text{"/bin/sh", true, false, 0};
      full.event.argv = {"ls", "-l"};
      full.event.user = "alice";
      full.event.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
      write(sink, full.event);
    }
  }
  // ls, cat, sh, "ls -l", alice, the hash: six texts for 300 events.
  EXPECT_EQ(scalar("SELECT count(*) FROM strings"), 6);
  EXPECT_EQ(scalar("SELECT count(*) FROM strings WHERE plain = 1"), 6);
  EXPECT_EQ(scalar("SELECT count(*) FROM strings_fts WHERE strings_fts MATCH '\"bin\" AND \"n/c\" AND \"/ca\"'"), 1);
  expect_index_in_step(**store);
  expect_all_read_back();
}

TEST_F(StoreCompaction, RetentionDeletesTextsNoEventNamesWithTheirIndexEntries) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  (*store)->set_string_slack(0);  // exact: a deleted event's strings go with it
  const std::int64_t second = 1'000'000'000;
  {
    StoreWriter sink(**store, {}, stderr);
    for (int i = 0; i < 3 * static_cast<int>(EventStore::kRetentionChunk); ++i) {
      FullEvent full(EventKind::exec);
      full.event.time_ns = kTime + i * second;
      full.event.task.pid = static_cast<std::uint32_t>(1000 + i);
      full.event.process_uid = full.scheme.make(full.event.task.pid, 1);
      full.event.image = Text{"/usr/bin/shared", true, false, 0};
      keep_.push_back("unique " + std::to_string(i));
      full.event.argv = {keep_.back()};
      // Not UTF-8 every third event: strings the trigram index never had.
      keep_.push_back(i % 3 == 0 ? "/x/\xff" + std::to_string(i) : "/parent/" + std::to_string(i));
      full.event.parent_image = Text{keep_.back(), true, false, 0};
      write(sink, full.event);
    }
  }
  const std::int64_t total = 3 * EventStore::kRetentionChunk;
  const std::int64_t keep = 100;
  // In chunks: a step deletes at most kRetentionChunk events.
  const std::int64_t now = kTime + total * second;
  auto step = (*store)->apply_retention_step(now, keep * second, 0);
  ASSERT_TRUE(step.has_value()) << step.error().message;
  EXPECT_EQ(*step, EventStore::kRetentionChunk);
  auto rest = (*store)->apply_retention(now, keep * second, 0);
  ASSERT_TRUE(rest.has_value()) << rest.error().message;
  EXPECT_EQ(*step + *rest, total - keep);
  EXPECT_EQ(scalar("SELECT count(*) FROM event_rows"), keep);
  // The shared image, user, hash and the kept events' own two texts each.
  EXPECT_EQ(scalar("SELECT count(*) FROM strings"), 3 + 2 * keep);
  EXPECT_EQ(scalar("SELECT count(*) FROM strings s WHERE NOT EXISTS (SELECT 1 FROM events e WHERE "
                   "s.text IN (e.image, e.argv, e.user, e.parent_image, e.hash))"),
            0);
  expect_index_in_step(**store);
  EXPECT_EQ(scalar("SELECT count(*) FROM strings_fts WHERE strings_fts MATCH '\"e 1\" AND \"123\"'"), 0);
  EXPECT_EQ(scalar("SELECT min(pid) FROM events WHERE process_uid IS NOT NULL"), 1000 + total - keep);
  EXPECT_GT(scalar("SELECT count(*) FROM strings_fts WHERE strings_fts MATCH '\"uni\" AND \"que\"'"), 0);
  // The kept events read back as they were written.
  expected_.erase(expected_.begin(), expected_.begin() + (total - keep));
  expect_all_read_back();
}

// The recorder's retention (--keep) goes in chunks over several ticks when there is much to
// delete, and leaves exactly the recent events.
TEST_F(StoreCompaction, TheRecordersRetentionDeletesTheOldEventsAndKeepsTheRecentOnes) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  const std::int64_t recent = ClockMapping::now_epoch_ns();
  StoreWriter sink(**store, RetentionOptions{3600'000'000'000, 0}, stderr);
  for (int i = 0; i < 5 * static_cast<int>(EventStore::kRetentionChunk) + 10; ++i) {
    FullEvent full(EventKind::exec);
    full.event.time_ns = i < 10 ? recent : recent - 7200'000'000'000;  // two hours ago
    write(sink, full.event);
  }
  sink.finish();
  for (int tick = 0; tick < 1000 && scalar("SELECT count(*) FROM event_rows") > 10; ++tick) sink.tick({});
  EXPECT_EQ(scalar("SELECT count(*) FROM event_rows WHERE time_ns = " + std::to_string(recent)), 10);
  EXPECT_EQ(scalar("SELECT count(*) FROM event_rows"), 10);
  EXPECT_EQ(sink.stored(), expected_.size());
  expected_.erase(expected_.begin() + 10, expected_.end());
  expect_all_read_back();
}

TEST_F(StoreCompaction, AnAbandonedBatchLeavesNoIdsInTheWritersCaches) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  auto row_of = [&](const std::string& argv, std::string& bytes) {
    FullEvent full(EventKind::exec);
    full.event.argv = {argv};
    bytes.clear();
    format_.append(bytes, full.event);
    return *StoreRow::parse(bytes);
  };
  std::string bytes;
  // A batch that adds texts (and, past kDictionarySamples events, a dictionary) and is abandoned.
  // Until the trainer's dictionary is in the batch (dictionary_trainer.h).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (std::size_t i = 0; (*store)->dictionary_id() == 0 && std::chrono::steady_clock::now() < deadline; ++i) {
    ASSERT_TRUE((*store)->insert(row_of("abandoned " + std::to_string(i), bytes)).has_value());
  }
  EXPECT_GT((*store)->dictionary_id(), 0);
  EXPECT_GT((*store)->cached_strings(), 0u);
  (*store)->rollback();
  EXPECT_EQ((*store)->cached_strings(), 0u);
  EXPECT_EQ((*store)->dictionary_id(), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM strings"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM dictionaries"), 0);
  // The same texts again: new ids that exist, a body without the lost dictionary.
  {
    StoreWriter sink(**store, {}, stderr);
    for (int i = 0; i < 10; ++i) {
      FullEvent full(EventKind::exec);
      keep_.push_back("abandoned " + std::to_string(i));
      full.event.argv = {keep_.back()};
      write(sink, full.event);
    }
  }
  expect_all_read_back();
  expect_index_in_step(**store);
  // A batch SQLite itself fails (the disk is full): the same.
  ASSERT_EQ(sqlite3_exec((*store)->handle(), "PRAGMA max_page_count=1", nullptr, nullptr, nullptr), SQLITE_OK);
  Result<bool> inserted = true;
  for (int i = 0; i < 100'000 && inserted; ++i)  // until the batch needs a page more
    inserted = (*store)->insert(row_of("full disk " + std::to_string(i), bytes));
  if (inserted) inserted = (*store)->commit();
  EXPECT_FALSE(inserted.has_value());
  EXPECT_EQ((*store)->cached_strings(), 0u);
  sqlite3_exec((*store)->handle(), "PRAGMA max_page_count=1000000", nullptr, nullptr, nullptr);
  expect_all_read_back();
}

TEST(BodyCodec, RefusesCorruptBodies) {
  BodyEncoder encoder;
  BodyDecoder decoder;
  const std::string json = "{\"event\":\"exec\",\"image\":\"/usr/bin/true\"}";
  auto body = encoder.encode(json);
  ASSERT_TRUE(body.has_value());
  std::string frame(*body);
  std::string out;
  ASSERT_TRUE(decoder.decode(0, frame, out).has_value());
  EXPECT_EQ(out, json);
  EXPECT_FALSE(decoder.decode(7, frame, out).has_value());  // no such dictionary
  EXPECT_FALSE(decoder.decode(0, "", out).has_value());
  EXPECT_FALSE(decoder.decode(0, frame.substr(0, frame.size() - 1), out).has_value());
  // Every single-byte change is refused or decodes to something (never a crash, never more
  // than the frame says: the sanitizer builds run this).
  for (std::size_t i = 0; i < frame.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = frame;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      if (decoder.decode(0, bad, out)) {
        EXPECT_LE(out.size(), BodyDecoder::kMaxBody);
      }
    }
  }
  ASSERT_TRUE(decoder.decode(0, frame, out).has_value());  // a failed frame left nothing behind
  EXPECT_EQ(out, json);
}

}  // namespace
}  // namespace procsentry
