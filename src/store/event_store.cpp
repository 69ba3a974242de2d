#include "store/event_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace procsentry {
namespace {

// Migrations from version N-1 to N, in order; the index is N-1. Never edit one that shipped:
// add the next.
constexpr const char* kMigrations[] = {
    // 1: events, with the columns queries filter on and the whole JSON line. Every index
    // entry costs a B-tree insert per event, and one with a random key a page written per
    // batch: process_uid and pid, the same for all of a process's events, are indexed on its
    // first stored event only, which the others name in first_id (a key growing like id).
    // NULLs are not indexed.
    R"sql(
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
)sql",
};
static_assert(std::size(kMigrations) == EventStore::kSchemaVersion);

}  // namespace

std::string default_database_path() {
  if (geteuid() == 0) return "/var/lib/procsentry/events.db";
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state != '\0') {
    return std::string(state) + "/procsentry/events.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/state/procsentry/events.db";
}

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // Create it 0600 ourselves: SQLite would use the umask. Its -wal and -shm files copy the
  // database's permissions.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{fmt::format("cannot open the database {}: {} (use --db PATH)", path, std::strerror(errno))};
  }
  struct stat st {};
  bool owned = fstat(fd, &st) == 0 && st.st_uid == geteuid();
  if (owned) (void)fchmod(fd, 0600);
  ::close(fd);

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{fmt::format("cannot open the database {}: {}", path, why)};
  }
  std::unique_ptr<EventStore> store(new EventStore(db, path));
  sqlite3_busy_timeout(db, 5000);
  // page_size (a new file only; before WAL fixes it): 16 KiB pages make inserts ~35% cheaper
  // than 4 KiB (fewer page splits and WAL frames per event). WAL: readers (procsentry query)
  // never block the recorder. synchronous=NORMAL: a power loss may drop the last commits, a
  // crash of procsentry loses nothing committed, and the file is never corrupted.
  for (const char* pragma : {"PRAGMA page_size=16384", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
    if (auto r = store->exec(pragma); !r) return Error{fmt::format("database {}: {}", path, r.error().message)};
  }
  sqlite3_stmt* version_stmt = nullptr;
  int version = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &version_stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(version_stmt) == SQLITE_ROW) {
    version = sqlite3_column_int(version_stmt, 0);
  }
  sqlite3_finalize(version_stmt);
  if (version > kSchemaVersion) {
    return Error{fmt::format("database {} has schema version {}, newer than this procsentry ({}): upgrade procsentry",
                             path, version, kSchemaVersion)};
  }
  for (int next = version + 1; next <= kSchemaVersion; ++next) {
    std::string step = fmt::format("BEGIN IMMEDIATE; {} PRAGMA user_version={}; COMMIT;", kMigrations[next - 1], next);
    if (auto r = store->exec(step.c_str()); !r) {
      (void)store->exec("ROLLBACK");
      return Error{fmt::format("database {}: migrating to schema {} failed: {}", path, next, r.error().message)};
    }
  }
  if (auto r = store->prepare(); !r) return Error{fmt::format("database {}: {}", path, r.error().message)};
  return store;
}

EventStore::~EventStore() {
  if (in_batch_) (void)commit();
  sqlite3_finalize(insert_one_);
  sqlite3_finalize(insert_many_);
  sqlite3_finalize(max_id_);
  sqlite3_close(db_);
}

Result<bool> EventStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message != nullptr ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return Error{why};
  }
  return true;
}

Result<bool> EventStore::prepare() {
  // OR ROLLBACK: a failing row ends the whole batch, so SQLite keeps no statement journal
  // for a statement of many rows (it would copy each page the statement touches first).
  std::string one =
      "INSERT OR ROLLBACK INTO events (id, time_ns, event, pid, ppid, uid, user, process_uid, parent_uid, first_id, "
      "image, argv, json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
  std::string many = one;
  for (std::size_t i = 1; i < kRowsPerInsert; ++i) many += ",(?,?,?,?,?,?,?,?,?,?,?,?,?)";
  if (sqlite3_prepare_v3(db_, one.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &insert_one_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(db_, many.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &insert_many_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(db_, "SELECT max(id) FROM events", -1, SQLITE_PREPARE_PERSISTENT, &max_id_, nullptr) !=
          SQLITE_OK) {
    return Error{sqlite3_errmsg(db_)};
  }
  return true;
}

Result<bool> EventStore::begin() {
  // IMMEDIATE: the write lock from the start, so no other writer takes the ids we assign.
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  const int rc = sqlite3_step(max_id_);
  next_id_ = rc == SQLITE_ROW ? sqlite3_column_int64(max_id_, 0) + 1 : 1;
  sqlite3_reset(max_id_);
  if (rc != SQLITE_ROW) {
    Error error{sqlite3_errmsg(db_)};
    (void)exec("ROLLBACK");
    return error;
  }
  in_batch_ = true;
  return true;
}

Result<bool> EventStore::insert(const StoreRow& e) {
  if (!in_batch_) {
    if (auto r = begin(); !r) return r;
  }
  Row& row = rows_[pending_++];
  row.id = next_id_++;
  row.first_id = row.id;
  if (!e.process_uid.empty()) {
    if (firsts_.size() >= kMaxFirsts) firsts_.clear();
    key_.assign(e.process_uid);  // reused: a lookup allocates nothing
    auto [it, added] = firsts_.try_emplace(key_, First{row.id, e.pid});
    if (!added && it->second.pid == e.pid) {
      row.first_id = it->second.id;
    } else if (!added) {
      it->second = First{row.id, e.pid};  // all events naming a first have its pid
    }
  }
  row.time_ns = e.time_ns;
  row.kind = e.kind;
  row.pid = e.pid;
  row.ppid = e.ppid;
  row.uid = e.uid;
  row.user = e.user;
  row.process_uid = e.process_uid;
  row.parent_uid = e.parent_uid;
  row.image = e.image;
  row.argv = e.argv;
  row.json = e.json;
  if (pending_ == kRowsPerInsert) return flush();
  return true;
}

void EventStore::bind(sqlite3_stmt* stmt, int first_parameter, const Row& row) {
  // Every parameter is bound each time (NULL when absent), so no sqlite3_clear_bindings.
  // SQLITE_STATIC: rows_ stays put until the step, and reset() drops the references.
  int i = first_parameter;
  auto text = [&](const std::string& value) {
    if (value.empty()) {
      sqlite3_bind_null(stmt, i++);
    } else {
      sqlite3_bind_text(stmt, i++, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    }
  };
  auto number = [&](std::optional<std::uint32_t> value) {
    if (value) {
      sqlite3_bind_int64(stmt, i++, *value);
    } else {
      sqlite3_bind_null(stmt, i++);
    }
  };
  sqlite3_bind_int64(stmt, i++, row.id);
  sqlite3_bind_int64(stmt, i++, row.time_ns);
  const std::string_view kind = to_string(row.kind);
  sqlite3_bind_text(stmt, i++, kind.data(), static_cast<int>(kind.size()), SQLITE_STATIC);
  number(row.pid);
  number(row.ppid);
  number(row.uid);
  text(row.user);
  text(row.process_uid);
  text(row.parent_uid);
  sqlite3_bind_int64(stmt, i++, row.first_id);
  text(row.image);
  text(row.argv);
  text(row.json);
}

Result<bool> EventStore::flush() {
  // A full buffer in one statement; what is left at a commit, row by row.
  const bool full = pending_ == kRowsPerInsert;
  for (std::size_t done = 0; done < pending_; done += full ? kRowsPerInsert : 1) {
    sqlite3_stmt* stmt = full ? insert_many_ : insert_one_;
    if (full) {
      for (std::size_t r = 0; r < kRowsPerInsert; ++r) bind(stmt, static_cast<int>(r * kColumns + 1), rows_[r]);
    } else {
      bind(stmt, 1, rows_[done]);
    }
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
      Error error{sqlite3_errmsg(db_)};
      rollback();  // SQLite may have ended the transaction already: never go on without one
      return error;
    }
  }
  pending_ = 0;
  return true;
}

Result<bool> EventStore::commit() {
  if (!in_batch_) return true;
  if (auto r = flush(); !r) return r;
  in_batch_ = false;
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    firsts_.clear();  // it may name events of the lost batch
    return r;
  }
  return true;
}

void EventStore::rollback() {
  if (!in_batch_) return;
  in_batch_ = false;
  pending_ = 0;
  firsts_.clear();         // it may name events of the abandoned batch
  (void)exec("ROLLBACK");  // fails harmlessly if SQLite already rolled back (e.g. SQLITE_FULL)
}

std::int64_t EventStore::size_bytes() {
  std::int64_t pages = 0;
  std::int64_t page_size = 0;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()", -1, &stmt,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    pages = sqlite3_column_int64(stmt, 0);
    page_size = sqlite3_column_int64(stmt, 1);
  }
  sqlite3_finalize(stmt);
  return pages * page_size;
}

Result<std::int64_t> EventStore::delete_events(const std::string& where) {
  firsts_.clear();  // it may name deleted events
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r.error();
  auto fail = [&](const char* what) {
    Error error{fmt::format("{}: {}", what, sqlite3_errmsg(db_))};
    (void)exec("ROLLBACK");
    return error;
  };
  std::vector<std::int64_t> firsts;  // first events that go
  sqlite3_stmt* stmt = nullptr;
  std::string sql = fmt::format("SELECT id FROM events WHERE ({}) AND first_id = id", where);
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return fail("retention");
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) firsts.push_back(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return fail("retention");
  sql = fmt::format("DELETE FROM events WHERE {}", where);
  if (auto r = exec(sql.c_str()); !r) {
    (void)exec("ROLLBACK");
    return r.error();
  }
  const std::int64_t deleted = sqlite3_changes64(db_);
  if (!firsts.empty()) {
    if (sqlite3_prepare_v2(db_,
                           "UPDATE events SET first_id = (SELECT min(id) FROM events WHERE first_id = ?1) "
                           "WHERE first_id = ?1",
                           -1, &stmt, nullptr) != SQLITE_OK) {
      return fail("retention");
    }
    for (std::int64_t first : firsts) {
      sqlite3_bind_int64(stmt, 1, first);
      rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      if (rc != SQLITE_DONE) break;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return fail("retention");
  }
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    return r.error();
  }
  return deleted;
}

Result<std::int64_t> EventStore::apply_retention(std::int64_t now_ns, std::int64_t keep_ns, std::int64_t max_bytes) {
  if (auto r = commit(); !r) return r.error();
  std::int64_t deleted = 0;
  if (keep_ns > 0) {
    auto n = delete_events(fmt::format("time_ns < {}", now_ns - keep_ns));
    if (!n) return n;
    deleted += *n;
  }
  if (max_bytes > 0) {
    // Deleting frees pages for reuse; the file shrinks only by VACUUM, so the bound is on
    // the pages in use: page_count - freelist_count.
    for (int round = 0; round < 64; ++round) {
      sqlite3_stmt* stmt = nullptr;
      std::int64_t used = 0;
      if (sqlite3_prepare_v2(db_,
                             "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), "
                             "pragma_freelist_count(), pragma_page_size()",
                             -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        used = sqlite3_column_int64(stmt, 0);
      }
      sqlite3_finalize(stmt);
      if (used <= max_bytes) break;
      // The oldest tenth (at least 1,000 rows) per round: those up to the last one's id.
      if (sqlite3_prepare_v2(db_,
                             "SELECT id FROM events ORDER BY id LIMIT 1 OFFSET max(1000, (SELECT count(*) FROM events) "
                             "/ 10) - 1",
                             -1, &stmt, nullptr) != SQLITE_OK) {
        return Error{sqlite3_errmsg(db_)};
      }
      const int rc = sqlite3_step(stmt);
      std::string where = rc == SQLITE_ROW ? fmt::format("id <= {}", sqlite3_column_int64(stmt, 0)) : "1";
      sqlite3_finalize(stmt);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
      auto n = delete_events(where);
      if (!n) return n;
      deleted += *n;
      if (*n == 0) break;
    }
  }
  return deleted;
}

}  // namespace procsentry
