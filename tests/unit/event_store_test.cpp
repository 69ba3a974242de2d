// The SQLite event store: schema and permissions, batched recording, queries, retention,
// a full disk, and kill -9 in the middle of heavy recording.
#include "store/event_store.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "core/decode.h"
#include "query_lines.h"
#include "store/event_query.h"
#include "store/store_row.h"
#include "store/store_writer.h"
#include "support/record_builder.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kBoot = 1'795'521'841'000'000'000;  // 2026-11-24T12:04:01Z

// Writes the event as the store's thread gets it: its row, packed by the event thread.
void write_event(StoreWriter& sink, const Event& event) {
  static StoreRowFormatter format;
  std::string bytes;
  format.append(bytes, event);
  auto row = StoreRow::parse(bytes);
  ASSERT_TRUE(row.has_value());
  sink.write(*row);
}

class EventStoreTest : public ::testing::Test {
 protected:
  EventStoreTest() : dir_(fs::temp_directory_path() / ("store." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~EventStoreTest() override { fs::remove_all(dir_); }

  // A row at boot + `seconds` with a small JSON body naming its pid and time; the row's views
  // point into texts_.
  StoreRow event(int seconds, std::uint32_t pid, const std::string& uid, const std::string& parent) {
    StoreRow e;
    e.time_ns = kBoot + seconds * 1'000'000'000ll;
    e.pid = pid;
    e.process_uid = texts_.emplace_back(uid);
    e.parent_uid = texts_.emplace_back(parent);
    e.json = texts_.emplace_back("{\"pid\":" + std::to_string(pid) + ",\"t\":" + std::to_string(seconds) + "}");
    return e;
  }

  // Records `count` execs of pid 1000+i at one second apart, through the real sink.
  void record(EventStore& store, int count, const std::string& image = "/usr/bin/ls", int first_pid = 1000) {
    StoreWriter sink(store, {}, stderr);
    Decoder decoder(ClockMapping{kBoot});
    for (int i = 0; i < count; ++i) {
      test::ExecSpec spec;
      spec.task.pid = spec.task.tid = static_cast<std::uint32_t>(first_pid + i);
      spec.task.uid = i % 2 == 0 ? 0 : 1000;
      spec.image = image;
      spec.argv = {"ls", "-l", "/tmp/secret " + std::to_string(i)};
      test::Bytes bytes = test::exec_record(spec);
      // Header timestamp: i seconds after boot+2 s.
      const std::uint64_t seconds = 2 + static_cast<std::uint64_t>(i);
      const std::uint64_t ts = seconds * 1'000'000'000;
      std::memcpy(bytes.data() + offsetof(ps_header, timestamp_ns), &ts, sizeof(ts));
      auto event = decoder.decode(bytes);
      ASSERT_TRUE(event.has_value());
      (*event)->user = spec.task.uid == 0 ? "root" : "alice";
      (*event)->process_uid = ProcessUidScheme("ab", 1).make(spec.task.pid, 1);
      (*event)->parent_uid = ProcessUidScheme("ab", 1).make(spec.task.pid - 1, 1);
      write_event(sink, **event);
    }
    sink.finish();
    EXPECT_EQ(sink.stored(), static_cast<std::uint64_t>(count));
  }
  std::vector<std::string> query_lines(QueryOptions q) { return query_json_lines(path_, std::move(q)); }

  fs::path dir_;
  std::string path_;
  std::deque<std::string> texts_;  // what rows made by event() point into
};

TEST_F(EventStoreTest, CreatedPrivateInWalModeWithTheCurrentSchema) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string out;
  QueryOptions q;
  q.sql = "SELECT journal_mode FROM pragma_journal_mode()";
  ASSERT_TRUE(run_query(path_, q, out).has_value());
  EXPECT_EQ(out, "{\"journal_mode\":\"wal\"}\n");
  out.clear();
  q.sql = "SELECT user_version FROM pragma_user_version()";
  ASSERT_TRUE(run_query(path_, q, out).has_value());
  EXPECT_EQ(out, "{\"user_version\":" + std::to_string(EventStore::kSchemaVersion) + "}\n");
}

TEST_F(EventStoreTest, ANewerSchemaIsRefused) {
  { ASSERT_TRUE(EventStore::open(path_).has_value()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto again = EventStore::open(path_);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("newer than this procsentry"), std::string::npos) << again.error().message;
}

TEST_F(EventStoreTest, AnUnwritablePathIsOneClearError) {
  auto store = EventStore::open("/proc/procsentry/events.db");
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message.find("cannot open the database"), std::string::npos);
}

TEST_F(EventStoreTest, QueriesFilterAndCombine) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  record(**store, 10);
  record(**store, 2, "/usr/sbin/sshd", 2000);
  EXPECT_EQ(query_lines({}).size(), 12u);
  QueryOptions q;
  q.pids = {1003, 1004};
  EXPECT_EQ(query_lines(q).size(), 2u);
  q = {};
  q.users = {"alice"};
  EXPECT_EQ(query_lines(q).size(), 6u);  // odd i of the first 10, and pid 2001
  q = {};
  q.uids = {0};
  EXPECT_EQ(query_lines(q).size(), 6u);
  q = {};
  q.image_glob = "/usr/sbin/*";
  EXPECT_EQ(query_lines(q).size(), 2u);
  q = {};
  q.argv_substring = "secret 7";
  auto lines = query_lines(q);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"pid\":1007"), std::string::npos) << lines[0];
  q = {};
  q.since_ns = kBoot + 5'000'000'000;  // i >= 3
  q.until_ns = kBoot + 8'000'000'000;  // i < 6
  q.image_glob = "/usr/bin/ls";
  EXPECT_EQ(query_lines(q).size(), 3u);
  q = {};
  q.process_uid = "ab000000-1005-1";
  EXPECT_EQ(query_lines(q).size(), 1u);
  // Lineage: 1005's parent_uid is 1004's uid, and so on down the chain.
  q.tree = true;
  EXPECT_EQ(query_lines(q).size(), 10u);  // 1000..1004 above, 1006..1009 below
  q = {};
  q.image_glob = "'; DROP TABLE events; --";  // bound as a value, never spliced into SQL
  EXPECT_EQ(query_lines(q).size(), 0u);
  EXPECT_EQ(query_lines({}).size(), 12u);
}

TEST_F(EventStoreTest, TableOutputIsEscaped) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  record(**store, 1, "/tmp/\x1b[31mred");
  std::string out;
  ASSERT_TRUE(run_query(path_, {}, out).has_value());
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_NE(out.find("/tmp/\\e[31mred"), std::string::npos) << out;
}

TEST_F(EventStoreTest, SqlIsReadOnly) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  record(**store, 3);
  std::string out;
  QueryOptions q;
  q.sql = "SELECT count(*) AS n, max(pid) AS top FROM events";
  ASSERT_TRUE(run_query(path_, q, out).has_value());
  EXPECT_EQ(out, "{\"n\":3,\"top\":1002}\n");
  q.sql = "DELETE FROM event_rows";
  auto refused = run_query(path_, q, out);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("read-only"), std::string::npos) << refused.error().message;
  EXPECT_EQ(query_lines({}).size(), 3u);
}

TEST_F(EventStoreTest, RetentionByAgeAndBySize) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  // Each event has texts of its own: with kStringSlack, the deleted events' would be most of
  // this small store.
  (*store)->set_string_slack(0);
  record(**store, 100);
  // Events are at boot+2 s .. boot+101 s; keep the last 50 s as of boot+102 s.
  auto deleted = (*store)->apply_retention(kBoot + 102'000'000'000, 50'000'000'000, 0);
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(*deleted, 50);  // times 2..51 s
  EXPECT_EQ(query_lines({}).size(), 50u);
  record(**store, 20000, "/usr/bin/ls", 100000);
  std::int64_t before = (*store)->size_bytes();
  auto trimmed = (*store)->apply_retention(0, 0, before / 4);
  ASSERT_TRUE(trimmed.has_value());
  EXPECT_GT(*trimmed, 0);
  std::string out;
  QueryOptions q;
  q.sql = "SELECT (page_count - freelist_count) * page_size <= " + std::to_string(before / 4) +
          " AS fits, min(pid) > 1000 AS oldest_went_first FROM pragma_page_count(), pragma_freelist_count(), "
          "pragma_page_size(), events";
  ASSERT_TRUE(run_query(path_, q, out).has_value());
  EXPECT_EQ(out, "{\"fits\":1,\"oldest_went_first\":1}\n");
}

// pid and process_uid are indexed on a process's first stored event only: when retention
// deletes that event, the process's remaining events must still be found.
// A retention step past its deadline deletes one event and commits; one without deletes its
// whole chunk, where a process's first event, then the event that became its first, then the
// next go in one transaction: each process keeps its remaining events under its process_uid
// and pid.
TEST_F(EventStoreTest, RetentionStepsStopAtTheirDeadlineAndKeepProcessesWhole) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  std::deque<std::string> texts;
  {
    StoreWriter sink(**store, {}, stderr);
    for (int t = 1; t <= 15; ++t) {  // processes 10, 11, 12 in turn, five events each
      const auto pid = static_cast<std::uint32_t>(10 + (t - 1) % 3);
      StoreRow e;
      e.time_ns = kBoot + t * 1'000'000'000ll;
      e.pid = pid;
      e.process_uid = texts.emplace_back("ab-" + std::to_string(pid) + "-1");
      e.json = texts.emplace_back("{\"pid\":" + std::to_string(pid) + ",\"t\":" + std::to_string(t) + "}");
      sink.write(e);
    }
  }
  const std::int64_t now = kBoot + 20'000'000'000;
  const std::int64_t keep = 12'500'000'000;  // events before 7.5 s go: 1..7
  for (int step = 0; step < 3; ++step) {
    auto n = (*store)->apply_retention_step(now, keep, 0, std::chrono::steady_clock::time_point::min());
    ASSERT_TRUE(n.has_value()) << n.error().message;
    EXPECT_EQ(*n, 1) << "step " << step;
  }
  auto n = (*store)->apply_retention_step(now, keep, 0);  // 4..7: 4 and 7 are process 10's
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 4);
  n = (*store)->apply_retention_step(now, keep, 0);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0);
  for (std::uint32_t pid = 10; pid <= 12; ++pid) {
    std::vector<std::string> expected;
    for (int t = 8; t <= 15; ++t) {
      if (static_cast<std::uint32_t>(10 + (t - 1) % 3) == pid) {
        expected.push_back("{\"pid\":" + std::to_string(pid) + ",\"t\":" + std::to_string(t) + "}");
      }
    }
    QueryOptions q;
    q.process_uid = "ab-" + std::to_string(pid) + "-1";
    EXPECT_EQ(query_lines(q), expected) << q.process_uid;
    q = {};
    q.pids = {pid};
    EXPECT_EQ(query_lines(q), expected) << pid;
  }
}

TEST_F(EventStoreTest, AProcessIsFoundAfterRetentionDeletedItsFirstEvent) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  auto record_events = [&](const std::vector<StoreRow>& events) {
    StoreWriter sink(**store, {}, stderr);
    for (const auto& e : events) sink.write(e);
    sink.finish();
  };
  record_events({event(1, 10, "ab-10-1", "ab-1-1"), event(1, 11, "ab-11-1", "ab-10-1"),
                 event(50, 10, "ab-10-1", "ab-1-1"), event(60, 11, "ab-11-1", "ab-10-1")});
  auto deleted = (*store)->apply_retention(kBoot + 70'000'000'000, 30'000'000'000, 0);
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(*deleted, 2);
  QueryOptions q;
  q.process_uid = "ab-10-1";
  EXPECT_EQ(query_lines(q), std::vector<std::string>{"{\"pid\":10,\"t\":50}"});
  q = {};
  q.pids = {11};
  EXPECT_EQ(query_lines(q), std::vector<std::string>{"{\"pid\":11,\"t\":60}"});
  q = {};
  q.process_uid = "ab-11-1";
  q.tree = true;  // its parent through parent_uid
  EXPECT_EQ(query_lines(q).size(), 2u);
  record_events({event(80, 10, "ab-10-1", "ab-1-1")});  // after retention, and in a new store
  q = {};
  q.process_uid = "ab-10-1";
  EXPECT_EQ(query_lines(q).size(), 2u);
  store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  record_events({event(90, 10, "ab-10-1", "ab-1-1")});
  q.pids = {10};
  EXPECT_EQ(query_lines(q).size(), 3u);
}

// Schema 4 indexes parent_uid on a process's first event and on its events whose parent is
// another (reparented, or unknown at first) only: a tree finds every child through those, also
// once retention deleted a first event.
TEST_F(EventStoreTest, ATreeFindsReparentedChildrenThroughTheirIndexedEvents) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  {
    StoreWriter sink(**store, {}, stderr);
    for (const StoreRow& e :
         {event(1, 20, "ab-20-1", "ab-1-1"), event(2, 20, "ab-20-1", "ab-1-1"), event(3, 21, "ab-21-1", ""),
          event(4, 21, "ab-21-1", "ab-1-1"), event(50, 20, "ab-20-1", "ab-9-1"), event(51, 20, "ab-20-1", "ab-1-1")}) {
      sink.write(e);
    }
    sink.finish();
  }
  auto count = [&](const std::string& where) {
    QueryOptions q;
    q.sql = "SELECT count(*) AS n FROM event_rows WHERE " + where;
    auto lines = query_lines(q);
    return lines.size() == 1 ? std::stoll(lines[0].substr(5)) : -1;
  };
  // ab-20-1's first (ab-1-1) and its reparented exit (ab-9-1); ab-21-1's exec (its first knew
  // no parent).
  EXPECT_EQ(count("parent_uid IS NOT NULL AND parent_inherited IS NULL"), 3);
  EXPECT_EQ(count("parent_inherited = 1"), 2);
  auto tree = [&](const std::string& uid) {
    QueryOptions q;
    q.process_uid = uid;
    q.tree = true;
    return query_lines(q).size();
  };
  // ab-1-1: both children, every event; ab-9-1: ab-20-1, which it adopted.
  EXPECT_EQ(tree("ab-1-1"), 6u);
  EXPECT_EQ(tree("ab-9-1"), 4u);
  // Events before 2.5 s: ab-20-1's first two.
  auto deleted = (*store)->apply_retention(kBoot + 60'000'000'000, 57'500'000'000, 0);
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(count("parent_inherited = 1"), 0);  // ab-20-1's new first may have another parent
  EXPECT_EQ(tree("ab-1-1"), 4u);
  EXPECT_EQ(tree("ab-9-1"), 2u);
}

TEST_F(EventStoreTest, AFullDiskIsReportedOnceCountedAndRecordingResumes) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value());
  record(**store, 10);
  std::string out;
  QueryOptions q;
  q.sql = "SELECT page_count FROM pragma_page_count()";
  ASSERT_TRUE(run_query(path_, q, out).has_value());
  // The database cannot grow past its current size: the next batches fail like on a full disk.
  const std::string pages = out.substr(out.find(':') + 1, out.find('}') - out.find(':') - 1);
  sqlite3_exec((*store)->handle(), ("PRAGMA max_page_count=" + pages).c_str(), nullptr, nullptr, nullptr);
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* diagnostics = open_memstream(&text, &size);
  {
    StoreWriter sink(**store, {}, diagnostics);
    Decoder decoder(ClockMapping{kBoot});
    std::mt19937 random(7);
    // 3000 bytes that do not compress: every event needs pages of its own.
    auto write_incompressible = [&] {
      test::ExecSpec spec;
      std::string argument(3000, ' ');
      for (char& c : argument) c = static_cast<char>('a' + random() % 26);
      spec.argv = {"x", argument};
      write_event(sink, **decoder.decode(test::exec_record(spec)));
    };
    for (int batch = 0; batch < 3; ++batch) {
      for (int i = 0; i < 50; ++i) write_incompressible();
      std::this_thread::sleep_for(StoreWriter::kCommitInterval);
      sink.tick({});
    }
    EXPECT_EQ(sink.dropped(), 150u);
    sqlite3_exec((*store)->handle(), "PRAGMA max_page_count=1000000", nullptr, nullptr, nullptr);  // space is back
    for (int i = 0; i < 5; ++i) write_incompressible();
    sink.finish();
    EXPECT_EQ(sink.stored(), 5u);
  }
  std::fclose(diagnostics);
  std::string said(text, size);
  free(text);
  EXPECT_EQ(std::count(said.begin(), said.end(), '\n'), 2) << said;  // one line down, one line back
  EXPECT_NE(said.find("cannot record to the database"), std::string::npos) << said;
  EXPECT_NE(said.find("recording resumed (150 events were not recorded)"), std::string::npos) << said;
  EXPECT_EQ(query_lines({}).size(), 15u);
}

// kill -9 during heavy recording, again and again: the database is never corrupt and keeps
// every committed batch; at most the open batch is lost.
TEST_F(EventStoreTest, KillDashNineLosesAtMostTheOpenBatch) {
  std::uint64_t earlier = 0;  // rows the previous rounds left
  for (int round = 0; round < 5; ++round) {
    int report[2];
    ASSERT_EQ(pipe(report), 0);
    pid_t child = fork();
    if (child == 0) {
      close(report[0]);
      auto store = EventStore::open(path_);
      if (!store) _exit(1);
      StoreWriter sink(**store, {}, stderr);
      Decoder decoder(ClockMapping{kBoot});
      test::Bytes bytes = test::exec_record(test::ExecSpec{});
      for (std::uint64_t reported = 0;;) {
        for (int i = 0; i < 500; ++i) write_event(sink, **decoder.decode(bytes));
        sink.tick({});
        const std::uint64_t committed = sink.stored();
        if (committed != reported && write(report[1], &committed, sizeof(committed)) < 0) _exit(1);
        reported = committed;
      }
    }
    close(report[1]);
    // Kill only once a batch is committed (a sanitizer build may take longer than one commit
    // interval to get there), then after one more committed batch each round, so that the kill
    // falls at a different point of the recording each time.
    std::uint64_t last_committed = 0;
    bool committed_one = false;
    for (int reports = 0; reports <= round; ++reports) {
      pollfd next{report[0], POLLIN, 0};
      if (poll(&next, 1, 30'000) != 1 || read(report[0], &last_committed, sizeof(last_committed)) != 8) break;
      committed_one = true;
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    for (std::uint64_t n = 0; read(report[0], &n, sizeof(n)) == sizeof(n);) last_committed = n;
    close(report[0]);
    ASSERT_TRUE(committed_one) << "the child committed nothing within 30 s in round " << round;
    ASSERT_GT(last_committed, 0u) << "the child committed nothing in round " << round;
    std::string out;
    QueryOptions q;
    q.sql = "SELECT (SELECT integrity_check FROM pragma_integrity_check()) AS integrity";
    ASSERT_TRUE(run_query(path_, q, out).has_value());
    EXPECT_EQ(out, "{\"integrity\":\"ok\"}\n");
    auto store = EventStore::open(path_);  // recovers the WAL like a restart would
    ASSERT_TRUE(store.has_value());
    out.clear();
    q.sql = "SELECT count(*) AS n FROM events";
    ASSERT_TRUE(run_query(path_, q, out).has_value());
    std::uint64_t rows = std::stoull(out.substr(out.find(':') + 1));
    EXPECT_GE(rows, earlier + last_committed) << "a committed batch was lost";
    EXPECT_LE(rows, earlier + last_committed + StoreWriter::kCommitEvents + 500) << "more than one batch appeared";
    earlier = rows;
  }
}

TEST(StoreParsing, TimesDurationsAndSizes) {
  EXPECT_EQ(*parse_duration("90s"), 90'000'000'000);
  EXPECT_EQ(*parse_duration("7d"), 7 * 86400 * 1'000'000'000ll);
  EXPECT_FALSE(parse_duration("7 days").has_value());
  EXPECT_FALSE(parse_duration("-1h").has_value());
  EXPECT_FALSE(parse_duration("99999999999999d").has_value());
  EXPECT_EQ(*parse_size("1G"), 1ll << 30);
  EXPECT_EQ(*parse_size("500M"), 500ll << 20);
  EXPECT_EQ(*parse_size("4096"), 4096);
  EXPECT_FALSE(parse_size("1X").has_value());
  EXPECT_EQ(*parse_time("2026-11-24T12:04:01Z", 0), kBoot);
  EXPECT_EQ(*parse_time("3h", kBoot), kBoot - 3 * 3600 * 1'000'000'000ll);
  EXPECT_TRUE(parse_time("2026-11-24 03:00", 0).has_value());
  EXPECT_TRUE(parse_time("2026-11-24", 0).has_value());
  auto bad = parse_time("yesterday", 0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("is not a time"), std::string::npos);
}

}  // namespace
}  // namespace procsentry
