// A schema 1 store (made with migration 1's own SQL, rows as schema 1's writer wrote them)
// opened by this procsentry: converted to the current schema in one transaction, every column
// and every JSON line read back through the `events` view exactly as before. A schema 2 store
// (the same, converted by migration 2's SQL): every column and every query's result the same
// after migrations 3, 4 and 5 as before them; a schema 4 store's lookups by image and user too.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "full_event.h"
#include "hostile_events.h"
#include "query_lines.h"
#include "store/event_query.h"
#include "store/event_store.h"
#include "store/store_chunks.h"
#include "store/store_functions.h"
#include "store/store_row.h"
#include "store/store_writer.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;

// Schema 1, as migration 1 made it (never edited since it shipped).
constexpr const char* kSchema1 = R"sql(
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  event TEXT NOT NULL,
  pid INTEGER,
  ppid INTEGER,
  uid INTEGER,
  user TEXT,
  process_uid TEXT,
  parent_uid TEXT,
  first_id INTEGER NOT NULL,
  image TEXT,
  argv TEXT,
  json TEXT NOT NULL
);
CREATE INDEX events_time ON events(time_ns);
CREATE INDEX events_first_id ON events(first_id);
CREATE INDEX events_process_uid ON events(process_uid) WHERE first_id = id AND process_uid IS NOT NULL;
CREATE INDEX events_pid ON events(pid) WHERE first_id = id AND pid IS NOT NULL;
CREATE INDEX events_parent_uid ON events(parent_uid) WHERE parent_uid IS NOT NULL;
CREATE INDEX events_image ON events(image) WHERE image IS NOT NULL;
CREATE INDEX events_user ON events(user) WHERE user IS NOT NULL;
PRAGMA user_version=1;
)sql";

// Every schema 1 column of every event, in id order, each value exact (hex of the texts).
constexpr const char* kDump =
    "SELECT id, time_ns, event, pid, ppid, uid, hex(user), process_uid, parent_uid, first_id, hex(image), "
    "hex(argv), hex(json), typeof(user), typeof(image), typeof(argv) FROM events ORDER BY id";

class StoreMigration : public ::testing::Test {
 protected:
  StoreMigration() : dir_(fs::temp_directory_path() / ("store_migration." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~StoreMigration() override { fs::remove_all(dir_); }

  // A schema 1 store with `events`, written as schema 1's writer did: the row's columns, the
  // JSON whole, first_id naming the process's first event, NULL for an empty text.
  void make_schema1(const std::vector<const Event*>& events, const char* kind_override = nullptr) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, kSchema1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO events (id, time_ns, event, pid, ppid, uid, user, process_uid, "
                                 "parent_uid, first_id, image, argv, json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                 -1, &insert, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    StoreRowFormatter format;
    std::map<std::string, std::int64_t, std::less<>> firsts;
    std::int64_t id = 0;
    for (const Event* e : events) {
      std::string bytes;
      format.append(bytes, *e);
      const StoreRow row = *StoreRow::parse(bytes);
      ++id;
      std::int64_t first = id;
      if (!row.process_uid.empty()) first = firsts.try_emplace(std::string(row.process_uid), id).first->second;
      int i = 1;
      auto text = [&](std::string_view value) {
        if (value.empty()) {
          sqlite3_bind_null(insert, i++);
        } else {
          sqlite3_bind_text(insert, i++, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
        }
      };
      auto number = [&](std::optional<std::uint32_t> value) {
        if (value) {
          sqlite3_bind_int64(insert, i++, *value);
        } else {
          sqlite3_bind_null(insert, i++);
        }
      };
      sqlite3_bind_int64(insert, i++, id);
      sqlite3_bind_int64(insert, i++, row.time_ns);
      text(kind_override != nullptr && id == 2 ? kind_override : to_string(row.kind));
      number(row.pid);
      number(row.ppid);
      number(row.uid);
      text(row.user);
      text(row.process_uid);
      text(row.parent_uid);
      sqlite3_bind_int64(insert, i++, first);
      text(row.image);
      text(row.argv);
      text(row.json);
      ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE) << sqlite3_errmsg(db);
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }

  // The schema 1 store converted to schema 2 by migration 2's own SQL.
  void make_schema2(const std::vector<const Event*>& events) {
    make_schema1(events);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    register_store_functions(db);
    std::string sql = std::string("BEGIN; ") + schema_migration(2) + " PRAGMA user_version=2; COMMIT;";
    for (auto kind = static_cast<int>(EventKind::exec); kind <= static_cast<int>(kLastEventKind); ++kind) {
      sql += "INSERT INTO event_kinds VALUES (" + std::to_string(kind) + ", '" +
             std::string(to_string(static_cast<EventKind>(kind))) + "');";  // as every open does
    }
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  // The first value of the first row of `sql`.
  std::string value(const std::string& sql) {
    const auto rows = query(sql);
    return rows.empty() ? "" : rows[0].substr(0, rows[0].find('|'));
  }

  std::vector<std::string> query(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    register_store_functions(db);
    sqlite3_stmt* stmt = nullptr;
    std::vector<std::string> rows;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int rc = SQLITE_ROW;
    while (stmt != nullptr && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row += text == nullptr ? "NULL" : std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c)));
        row += '|';
      }
      rows.push_back(row);
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
  }

  fs::path dir_;
  std::string path_;
};

// Every kind with every field, hostile texts, and random hostile events; processes with
// several events (first_id), and events without any process_uid.
struct Corpus {
  std::deque<FullEvent> fulls;
  std::deque<std::vector<std::string>> keep;  // what the random events' views point into
  std::deque<Event> randoms;
  std::vector<const Event*> events;
  Corpus() {
    for (EventKind kind : test::kKinds) {
      for (int again = 0; again < 2; ++again) events.push_back(&fulls.emplace_back(kind).event);  // first_id
    }
    test::Generator g(7);
    for (int i = 0; i < 300; ++i) {
      randoms.push_back(test::random_event(g, test::kKinds[g.pick(std::size(test::kKinds))], keep.emplace_back()));
      events.push_back(&randoms.back());
    }
  }
};

TEST_F(StoreMigration, ASchema1StoreKeepsEveryColumnAndEveryJsonLine) {
  Corpus corpus;
  make_schema1(corpus.events);
  const std::vector<std::string> before = query(kDump);
  ASSERT_EQ(before.size(), 2 * std::size(test::kKinds) + 300);
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
  }
  EXPECT_EQ(query("SELECT user_version FROM pragma_user_version()"),
            std::vector<std::string>{std::to_string(EventStore::kSchemaVersion) + "|"});
  EXPECT_EQ(query("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'events'"),
            std::vector<std::string>{"0|"});
  const std::vector<std::string> after = query(kDump);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], before[i]) << "event " << i + 1;
  // The new columns, from the JSON where schema 1 kept them: the exec's hash and parent, the
  // failed exec's errno.
  EXPECT_EQ(query("SELECT hash, parent_image IS NOT NULL FROM events WHERE id = 1"),
            std::vector<std::string>{"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad|1|"});
  EXPECT_EQ(query("SELECT DISTINCT error FROM events WHERE event = 'exec_failed' AND id <= 4"),
            std::vector<std::string>{"2|"});
  // Texts once, and the trigram index in step.
  EXPECT_EQ(query("SELECT count(*) = count(DISTINCT text) FROM strings"), std::vector<std::string>{"1|"});
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    EXPECT_EQ(
        sqlite3_exec((*store)->handle(), "INSERT INTO strings_fts (strings_fts, rank) VALUES ('integrity-check', 1)",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
  }
}

TEST_F(StoreMigration, AFailedMigrationLeavesTheSchema1StoreAsItWas) {
  Corpus corpus;
  make_schema1(corpus.events, "not-a-kind");  // event 2 names a kind no procsentry wrote
  const std::vector<std::string> before = query(kDump);
  auto store = EventStore::open(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message.find("migrating to schema 2 failed"), std::string::npos) << store.error().message;
  EXPECT_EQ(query("SELECT user_version FROM pragma_user_version()"), std::vector<std::string>{"1|"});
  EXPECT_EQ(query(kDump), before);
  EXPECT_EQ(query("SELECT count(*) FROM sqlite_schema WHERE name IN ('strings', 'event_rows')"),
            std::vector<std::string>{"0|"});
}

TEST_F(StoreMigration, ASchema2StoreKeepsEveryColumnAndEveryQueryResult) {
  Corpus corpus;
  make_schema2(corpus.events);
  ASSERT_EQ(value("SELECT user_version FROM pragma_user_version()"), "2");
  const std::string dump =
      std::string(kDump).replace(std::string(kDump).find(" FROM events"), 0, ", hex(parent_image), hex(hash), error");
  const std::vector<std::string> before = query(dump);
  ASSERT_EQ(before.size(), 2 * std::size(test::kKinds) + 300);
  // Every query kind, with values of the stored events.
  std::vector<QueryOptions> queries(12);
  queries[0].argv_substring = value("SELECT substr(argv, 2, 4) FROM events WHERE id = 1");
  queries[1].argv_substring = "a";  // one character: no trigram, every text scanned
  queries[2].image_glob = value("SELECT image FROM events WHERE id = 1");
  queries[3].image_glob = "*";
  queries[4].users = {value("SELECT user FROM events WHERE id = 1")};
  queries[5].process_uid = value("SELECT process_uid FROM events WHERE id = 2");
  queries[6].process_uid = queries[5].process_uid;
  queries[6].tree = true;
  queries[7].pids = {static_cast<std::uint32_t>(std::stoul(value("SELECT pid FROM events WHERE id = 1")))};
  queries[8].argv_regex = ".";
  queries[9].reverse = true;
  queries[9].limit = 20;
  queries[10].since_ns = std::stoll(value("SELECT time_ns FROM events WHERE id = 100"));
  queries[11].argv_substring = queries[0].argv_substring;
  queries[11].count = true;
  std::vector<std::vector<std::string>> results;
  for (const QueryOptions& q : queries) {
    results.push_back(query_json_lines(path_, q));
    if (!q.count && q.limit == 0 && q.argv_substring != "a") {
      EXPECT_FALSE(results.back().empty());
    }
  }
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
  }
  EXPECT_EQ(value("SELECT user_version FROM pragma_user_version()"), std::to_string(EventStore::kSchemaVersion));
  const std::vector<std::string> after = query(dump);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(after[i] == before[i]) << "event " << i + 1;
  for (std::size_t i = 0; i < queries.size(); ++i) EXPECT_EQ(query_json_lines(path_, queries[i]), results[i]) << i;
  // Each string's last_id is the newest event naming it, whatever the column (0: none).
  EXPECT_EQ(value("SELECT count(*) FROM strings s WHERE last_id != coalesce((SELECT max(e.id) FROM event_rows e "
                  "WHERE s.id IN (+e.image_id, +e.argv_id, +e.user_id, +e.parent_image_id, +e.hash_id)), 0)"),
            "0");
  EXPECT_GT(std::stoll(value("SELECT count(*) FROM strings WHERE last_id > 0")), 300);
  // The indexes by key lead with the chunk; retention's own are gone.
  EXPECT_EQ(query(fmt::format("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'event_rows' AND "
                              "sql LIKE '%(id >> {},%' ORDER BY name",
                              kChunkBits)),
            (std::vector<std::string>{"event_rows_argv|", "event_rows_image|", "event_rows_parent_uid|",
                                      "event_rows_pid|", "event_rows_process_uid|", "event_rows_user|"}));
  EXPECT_EQ(value("SELECT count(*) FROM sqlite_schema WHERE name IN ('event_rows_parent_image', 'event_rows_hash')"),
            "0");
  // Schema 4: parent_uid's index skips the events marked as their first's parent; those
  // migrated are not marked (each keeps its entry).
  EXPECT_EQ(value("SELECT count(*) FROM sqlite_schema WHERE name = 'event_rows_parent_uid' AND "
                  "sql LIKE '%parent_inherited IS NULL%'"),
            "1");
  EXPECT_EQ(value("SELECT count(*) FROM event_rows WHERE parent_inherited IS NOT NULL"), "0");
}

// A schema 4 store (schema 2's, converted by migrations 3 and 4's own SQL) opened by this
// procsentry: its rows keep every column and stay indexed by image and user (none marked as a
// repeat), and lookups by image and user give the rows of a scan, before and after events with
// the same images and users are recorded into its last block.
TEST_F(StoreMigration, ASchema4StoreKeepsItsLookupsByImageAndUser) {
  Corpus corpus;
  make_schema2(corpus.events);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    register_store_functions(db);
    for (int version : {3, 4}) {
      const std::string sql = std::string("BEGIN; ") + schema_migration(version) +
                              " PRAGMA user_version=" + std::to_string(version) + "; COMMIT;";
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    }
    sqlite3_close(db);
  }
  ASSERT_EQ(value("SELECT user_version FROM pragma_user_version()"), "4");
  const std::vector<std::string> before = query(kDump);
  const std::string image = value("SELECT image FROM events WHERE id = 1");
  const std::string user = value("SELECT user FROM events WHERE id = 1");
  auto expect_lookups_exact = [&](const std::string& when) {
    auto scan = [&](const std::string& condition, const std::string& text) {
      std::vector<std::string> lines;
      for (std::string line :
           query("SELECT json FROM events WHERE " + condition + " = '" + text + "' ORDER BY time_ns, id")) {
        lines.push_back(line.substr(0, line.size() - 1));  // the separator
      }
      return lines;
    };
    QueryOptions q;
    q.image_glob = image;
    const auto by_image = scan("image", image);
    EXPECT_EQ(query_json_lines(path_, q), by_image) << when;
    q = {};
    q.users = {user};
    const auto by_user = scan("user", user);
    EXPECT_EQ(query_json_lines(path_, q), by_user) << when;
    q.count = true;
    std::string out;
    ASSERT_TRUE(run_query(path_, q, out).has_value());
    EXPECT_EQ(out, std::to_string(by_user.size()) + "\n") << when;
    EXPECT_GE(by_image.size(), 1u);
    EXPECT_GE(by_user.size(), 1u);
  };
  expect_lookups_exact("schema 4");
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(value("SELECT user_version FROM pragma_user_version()"), std::to_string(EventStore::kSchemaVersion));
  EXPECT_EQ(query(kDump), before);
  EXPECT_EQ(value("SELECT count(*) FROM event_rows WHERE image_repeat IS NOT NULL OR user_repeat IS NOT NULL"), "0");
  expect_lookups_exact("schemas 5 and 6");
  {
    StoreWriter sink(**store, {}, stderr);
    std::deque<std::string> texts;
    for (int i = 0; i < 30; ++i) {
      StoreRow row;
      row.time_ns = 1'795'521'841'000'000'000 + i;
      row.image = image;
      row.user = user;
      row.json = texts.emplace_back("{\"new\":" + std::to_string(i) + "}");
      sink.write(row);
    }
  }
  EXPECT_EQ(value("SELECT count(*) FROM event_rows WHERE image_repeat = 1 AND user_repeat = 1"), "29");
  // Schema 6: the new events' bodies in a block, the old rows' in frames of their own.
  EXPECT_EQ(value("SELECT count(*) FROM event_rows WHERE length(body) = 0"), "30");
  EXPECT_EQ(value("SELECT sum(count) FROM body_blocks WHERE key & 255 = 0"), "30");  // its first parts
  expect_lookups_exact("with new events in its last block");
}

}  // namespace
}  // namespace procsentry
