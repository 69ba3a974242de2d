// procsentry report on stores of known content, written through the writer `record` uses:
// each list, the window, first-seen images (and after retention deleted the older sightings),
// the terminal escaping and the JSON.
#include "store/event_report.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "store/report_format.h"
#include "store/store_functions.h"
#include "store/store_row.h"
#include "store/store_writer.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kDay = 86'400'000'000'000;
constexpr std::int64_t kStart = 1'795'521'841'000'000'000;  // 2026-11-24T12:04:01Z

Text text(std::string_view bytes) { return Text{bytes, true, false, static_cast<std::uint32_t>(bytes.size())}; }

class EventReportTest : public ::testing::Test {
 protected:
  EventReportTest() : dir_(fs::temp_directory_path() / ("report." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
    auto opened = EventStore::open(path_);
    EXPECT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    writer_ = std::make_unique<StoreWriter>(*store_, RetentionOptions{}, stderr);
  }
  ~EventReportTest() override {
    writer_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void write(const Event& e) {
    std::string bytes;
    format_.append(bytes, e);
    auto row = StoreRow::parse(bytes);
    ASSERT_TRUE(row.has_value());
    writer_->write(*row);
  }
  // An exec of `image` by `user` (uid), whose parent runs `parent`, at `time_ns`.
  void exec(std::int64_t time_ns, std::string_view image, std::string_view user, std::uint32_t uid,
            std::string_view parent, std::string_view sha256 = {}) {
    Event e;
    e.kind = EventKind::exec;
    e.time_ns = time_ns;
    e.task.pid = e.task.tid = ++pid_;
    e.task.ppid = 1;
    e.task.uid = uid;
    e.task.comm = "x";
    e.user = user;
    e.image = e.filename = text(image);
    e.argv = {image, "--flag"};
    e.parent_image = text(parent);
    e.sha256 = sha256;
    e.process_uid = scheme_.make(pid_, 1);
    e.parent_uid = scheme_.make(1, 1);
    write(e);
    // The fork and exit of the same process: counted as events, never as executions.
    e.kind = EventKind::exit;
    e.known_image = e.image;
    write(e);
  }
  void exec_failed(std::int64_t time_ns, std::string_view filename, int error) {
    Event e;
    e.kind = EventKind::exec_failed;
    e.time_ns = time_ns;
    e.task.pid = e.task.tid = ++pid_;
    e.task.comm = "x";
    e.filename = e.image = text(filename);
    e.error = error;
    e.process_uid = scheme_.make(pid_, 1);
    write(e);
  }
  Report report(ReportOptions o = {}) {
    writer_->finish();
    auto r = build_report(path_, o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : Report{};
  }

  // A copy of the store in schema 1 as migration 1 made it, filled from the `events` view (which
  // keeps its columns): report reads it with the SQL of schema 1 (a pass per list).
  std::string schema_one_copy() {
    writer_->finish();
    const std::string old_path = (dir_ / "schema1.db").string();
    fs::remove(old_path);
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    register_store_functions(db);
    const std::string sql = "ATTACH '" + old_path + R"(' AS old;
CREATE TABLE old.events (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, event TEXT NOT NULL, pid INTEGER,
  ppid INTEGER, uid INTEGER, user TEXT, process_uid TEXT, parent_uid TEXT, first_id INTEGER NOT NULL, image TEXT,
  argv TEXT, json TEXT NOT NULL);
CREATE INDEX old.events_time ON events(time_ns);
CREATE INDEX old.events_image ON events(image) WHERE image IS NOT NULL;
INSERT INTO old.events SELECT id, time_ns, event, pid, ppid, uid, user, process_uid, parent_uid, first_id, image,
  argv, json FROM main.events;
PRAGMA old.user_version = 1;)";
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
    return old_path;
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<StoreWriter> writer_;
  StoreRowFormatter format_;
  ProcessUidScheme scheme_{"ab", 1};
  std::uint32_t pid_ = 1000;
};

TEST_F(EventReportTest, ListsWhatTheStoreHolds) {
  for (int i = 0; i < 3; ++i) exec(kStart + i, "/usr/bin/ls", "root", 0, "/usr/bin/bash");
  exec(kStart + 10, "/usr/bin/cat", "alice", 1000, "/usr/bin/bash");
  exec(kStart + 11, "/usr/bin/cat", "alice", 1000, "/usr/sbin/cron");
  exec_failed(kStart + 20, "/nope", 2);
  exec_failed(kStart + 21, "/nope2", 2);
  exec_failed(kStart + 22, "/etc/shadow", 13);

  Report r = report();
  EXPECT_EQ(r.events, 13u);  // 5 execs, their 5 exits, 3 failures
  EXPECT_EQ(r.execs, 5u);
  EXPECT_EQ(r.failed_execs, 3u);
  ASSERT_EQ(r.images.size(), 2u);
  EXPECT_EQ(r.images[0].image, "/usr/bin/ls");
  EXPECT_EQ(r.images[0].execs, 3u);
  EXPECT_EQ(r.images[1].image, "/usr/bin/cat");
  EXPECT_EQ(r.images[1].execs, 2u);
  ASSERT_EQ(r.users.size(), 2u);
  EXPECT_EQ(r.users[0].user, "root");
  EXPECT_EQ(r.users[0].uid, 0);
  EXPECT_EQ(r.users[0].execs, 3u);
  EXPECT_EQ(r.users[1].user, "alice");
  EXPECT_EQ(r.users[1].uid, 1000);
  ASSERT_EQ(r.pairs.size(), 3u);
  EXPECT_EQ(r.pairs[0].parent_image, "/usr/bin/bash");
  EXPECT_EQ(r.pairs[0].image, "/usr/bin/ls");
  EXPECT_EQ(r.pairs[0].execs, 3u);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0].error, 2);
  EXPECT_EQ(r.failures[0].count, 2u);
  EXPECT_EQ(r.failures[1].error, 13);
  // Without --since the window starts with the store: every executed image is first seen.
  EXPECT_EQ(r.first_seen_total, 2u);

  std::string table;
  append_report_table(table, r);
  EXPECT_NE(table.find("ENOENT (2)"), std::string::npos) << table;
  EXPECT_NE(table.find("EACCES (13)"), std::string::npos) << table;
  EXPECT_NE(table.find("/usr/bin/bash   ->  /usr/bin/ls"), std::string::npos) << table;
  EXPECT_NE(table.find("root (0)"), std::string::npos) << table;

  std::string json;
  append_report_json(json, r);
  auto parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["execs"], 5);
  EXPECT_EQ(parsed["top_images"][0]["image"], "/usr/bin/ls");
  EXPECT_EQ(parsed["failed_execs_by_errno"][0]["error"], "ENOENT");
  EXPECT_EQ(parsed["failed_execs_by_errno"][0]["errno"], 2);
  EXPECT_EQ(parsed["parent_child"][2]["parent_image"], "/usr/sbin/cron");
  EXPECT_TRUE(parsed["since"].is_null());
}

TEST_F(EventReportTest, TopCutsEachListAndSaysHowManyThereAre) {
  for (int i = 0; i < 5; ++i) exec(kStart + i, "/bin/p" + std::to_string(i), "root", 0, "/bin/sh");
  ReportOptions o;
  o.top = 2;
  Report r = report(o);
  EXPECT_EQ(r.images.size(), 2u);
  EXPECT_EQ(r.images_total, 5u);
  EXPECT_EQ(r.first_seen.size(), 2u);
  EXPECT_EQ(r.first_seen_total, 5u);
  EXPECT_EQ(r.first_seen[0].image, "/bin/p0");  // oldest first
  std::string table;
  append_report_table(table, r);
  EXPECT_NE(table.find("(2 of 5; --top N for more)"), std::string::npos) << table;
}

TEST_F(EventReportTest, FirstSeenMeansNeverExecutedBeforeTheWindow) {
  exec(kStart, "/usr/bin/ls", "root", 0, "/usr/bin/bash");
  exec(kStart + kDay, "/usr/bin/ls", "root", 0, "/usr/bin/bash");
  exec(kStart + kDay + 5, "/tmp/.x/miner", "www-data", 33, "/usr/sbin/apache2", std::string(64, 'a'));
  exec(kStart + kDay + 6, "/tmp/.x/miner", "www-data", 33, "/usr/sbin/apache2");
  exec_failed(kStart, "/tmp/.y/tried", 2);  // tried before, never executed
  exec(kStart + kDay + 7, "/tmp/.y/tried", "root", 0, "/usr/bin/bash");

  ReportOptions o;
  o.since_ns = kStart + kDay;
  Report r = report(o);
  ASSERT_EQ(r.first_seen_total, 2u);
  EXPECT_EQ(r.first_seen[0].image, "/tmp/.x/miner");
  EXPECT_EQ(r.first_seen[0].first_ns, kStart + kDay + 5);
  EXPECT_EQ(r.first_seen[0].execs, 2u);
  EXPECT_EQ(r.first_seen[0].sha256, std::string(64, 'a'));
  EXPECT_EQ(r.first_seen[0].process_uid, scheme_.make(1003, 1).view());
  EXPECT_EQ(r.first_seen[1].image, "/tmp/.y/tried");
  EXPECT_EQ(r.first_seen[1].sha256, "");
  EXPECT_EQ(r.execs, 4u);  // the window's: day 2 only

  // --until ends the window: day 1 alone has only ls.
  o = {};
  o.until_ns = kStart + kDay;
  r = report(o);
  EXPECT_EQ(r.execs, 1u);
  ASSERT_EQ(r.first_seen_total, 1u);
  EXPECT_EQ(r.first_seen[0].image, "/usr/bin/ls");
}

// Documented: the store only knows what it keeps. Once retention has deleted an image's older
// sightings, its next execution counts as first seen again.
TEST_F(EventReportTest, FirstSeenAgainAfterRetentionDeletedTheOlderSightings) {
  exec(kStart, "/usr/bin/ls", "root", 0, "/usr/bin/bash");
  exec(kStart + 2 * kDay, "/usr/bin/ls", "root", 0, "/usr/bin/bash");
  ReportOptions o;
  o.since_ns = kStart + kDay;
  EXPECT_EQ(report(o).first_seen_total, 0u);

  auto deleted = store_->apply_retention(kStart + 2 * kDay, kDay, 0);  // keep one day
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(*deleted, 2);  // the first exec and its exit
  Report r = report(o);
  ASSERT_EQ(r.first_seen_total, 1u);
  EXPECT_EQ(r.first_seen[0].image, "/usr/bin/ls");
  EXPECT_EQ(r.first_seen[0].first_ns, kStart + 2 * kDay);
}

// Schema 5 indexes an image on its block's first row only (repeat_marks.h): a failed exec of
// it, say. An exec of it later in the block, before the window, is found all the same.
TEST_F(EventReportTest, FirstSeenFindsAnEarlierExecThatRepeatsItsBlock) {
  exec_failed(kStart, "/tmp/.x/miner", 13);
  exec(kStart + 1, "/tmp/.x/miner", "root", 0, "/usr/bin/bash");
  exec(kStart + kDay + 1, "/tmp/.x/miner", "root", 0, "/usr/bin/bash");
  exec(kStart + kDay + 2, "/tmp/.y/new", "root", 0, "/usr/bin/bash");
  writer_->finish();
  sqlite3* db = store_->handle();
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT group_concat(kind || ':' || coalesce(image_repeat, '-'), ' ') FROM event_rows", -1,
                         &stmt, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const std::string kinds = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  const auto kind = [](EventKind k) { return std::to_string(static_cast<int>(k)); };
  // The failure marked, the exec before the window one of its block's repeats.
  const std::string marks = kind(EventKind::exec_failed) + ":- " + kind(EventKind::exec) + ":1 ";
  EXPECT_EQ(kinds.substr(0, marks.size()), marks) << kinds;

  ReportOptions o;
  o.since_ns = kStart + kDay;
  Report r = report(o);
  ASSERT_EQ(r.first_seen_total, 1u);
  EXPECT_EQ(r.first_seen[0].image, "/tmp/.y/new");
}

TEST_F(EventReportTest, RecordedTextIsEscapedInTheTableAndLosslessInTheJson) {
  const std::string hostile = "/tmp/\x1b[2J\xff evil";
  exec(kStart, hostile, "ro\not", 0, "/usr/bin/bash");
  Report r = report();
  std::string table;
  append_report_table(table, r);
  EXPECT_EQ(table.find('\x1b'), std::string::npos) << table;
  EXPECT_NE(table.find("/tmp/\\e[2J\\xff evil"), std::string::npos) << table;
  EXPECT_NE(table.find("ro\\not (0)"), std::string::npos) << table;
  std::string json;
  append_report_json(json, r);
  auto parsed = nlohmann::json::parse(json);  // valid UTF-8 despite the \xff
  EXPECT_EQ(parsed["top_images"][0]["image_b64"], "L3RtcC8bWzJK/yBldmls");
}

// A store recorded by a procsentry before schema 2 and not migrated yet (report opens it
// read-only): the same report from its `events` table and JSON.
TEST_F(EventReportTest, SchemaOneStoreGivesTheSameReport) {
  exec(kStart, "/usr/bin/ls", "root", 0, "/usr/bin/bash");
  exec(kStart + kDay, "/usr/bin/ls", "root", 0, "/usr/bin/bash");
  exec(kStart + kDay + 1, "/usr/bin/cat", "alice", 1000, "/usr/sbin/cron", std::string(64, 'b'));
  exec(kStart + kDay + 2, "/tmp/x", "alice", 1000, "/usr/bin/bash");
  exec_failed(kStart + kDay + 3, "/nope", 2);
  ReportOptions o;
  o.since_ns = kStart + kDay;
  const Report now = report(o);
  ASSERT_EQ(now.first_seen_total, 2u);

  const std::string old_path = schema_one_copy();
  auto old = build_report(old_path, o);
  ASSERT_TRUE(old) << old.error().message;
  std::string a, b;
  append_report_json(a, now);
  append_report_json(b, *old);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find(std::string(64, 'b')), std::string::npos) << a;
  a.clear();
  b.clear();
  append_report_table(a, now);
  append_report_table(b, *old);
  EXPECT_EQ(a, b);
}

// The one pass (report_tally.h) against the SQL of a pass per list, on a random store full of
// ties (equal counts everywhere: the recorded-first order decides), with execs without user
// name or parent image, failures without errno, in several windows and list lengths.
TEST_F(EventReportTest, OnePassGivesTheReportOfTheSql) {
  std::mt19937 random(13);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  for (int i = 0; i < 3000; ++i) {
    const std::int64_t t = kStart + static_cast<std::int64_t>(pick(4 * 24)) * (kDay / 24) + i;
    const std::string image = "/usr/bin/i" + std::to_string(pick(3) == 0 ? pick(400) : pick(12));
    const std::string parent = pick(5) == 0 ? "" : "/usr/bin/p" + std::to_string(pick(6));
    if (pick(10) == 0) {
      exec_failed(t, image, pick(4));  // errno 0: none recorded
    } else if (pick(15) == 0) {        // no user name, root's uid
      exec(t, image, "", 0, parent);
    } else {
      const int user = pick(5);
      exec(t, image, "u" + std::to_string(user), static_cast<std::uint32_t>(1000 + user % 3), parent,
           pick(3) == 0 ? std::string(64, static_cast<char>('a' + pick(6))) : std::string());
    }
  }
  writer_->finish();
  for (int window = 0; window < 4; ++window) {
    ReportOptions o;
    if (window > 0) o.since_ns = kStart + window * kDay - kDay / 3;
    if (window == 2) o.until_ns = kStart + 3 * kDay;
    o.top = window == 3 ? 1000 : 7;
    auto now = build_report(path_, o);
    o.sql_lists = true;
    auto old = build_report(path_, o);
    ASSERT_TRUE(now) << now.error().message;
    ASSERT_TRUE(old) << old.error().message;
    std::string a, b;
    append_report_json(a, *now);
    append_report_json(b, *old);
    EXPECT_EQ(a, b) << "window " << window;
    EXPECT_GT(now->failures.size(), 3u);
    EXPECT_GT(now->first_seen_total, 0u);
  }
}

TEST_F(EventReportTest, MissingStoreIsOneLine) {
  auto r = build_report((dir_ / "none" / "events.db").string(), {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot open the database"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace procsentry
