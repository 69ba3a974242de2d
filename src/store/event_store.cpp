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

namespace procsentry {
namespace {

// Migrations from version N-1 to N, in order; the index is N-1. Never edit one that shipped:
// add the next.
constexpr const char* kMigrations[] = {
    // 1: events, with the columns queries filter on and the whole JSON line.
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
  image TEXT,
  argv TEXT,
  json TEXT NOT NULL
);
CREATE INDEX events_time ON events(time_ns);
CREATE INDEX events_pid ON events(pid);
CREATE INDEX events_process_uid ON events(process_uid);
CREATE INDEX events_parent_uid ON events(parent_uid);
CREATE INDEX events_image ON events(image);
CREATE INDEX events_user ON events(user);
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
  // WAL: readers (procsentry query) never block the recorder. synchronous=NORMAL: a power
  // loss may drop the last commits, a crash of procsentry loses nothing committed, and the
  // file is never corrupted.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
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
  sqlite3_finalize(insert_);
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
  const char* sql =
      "INSERT INTO events (time_ns, event, pid, ppid, uid, user, process_uid, parent_uid, image, argv, json) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &insert_, nullptr) != SQLITE_OK) {
    return Error{sqlite3_errmsg(db_)};
  }
  return true;
}

Result<bool> EventStore::insert(const EventSnapshot& e) {
  if (!in_batch_) {
    if (auto r = exec("BEGIN"); !r) return r;
    in_batch_ = true;
  }
  // SQLITE_STATIC: the snapshot outlives the step, and reset() below drops the references.
  auto text = [&](int index, const std::string& value) {
    if (!value.empty()) sqlite3_bind_text(insert_, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  };
  auto number = [&](int index, std::optional<std::uint32_t> value) {
    if (value) sqlite3_bind_int64(insert_, index, *value);
  };
  sqlite3_bind_int64(insert_, 1, e.time_ns);
  const std::string_view kind = to_string(e.kind);
  sqlite3_bind_text(insert_, 2, kind.data(), static_cast<int>(kind.size()), SQLITE_STATIC);
  number(3, e.pid);
  number(4, e.ppid);
  number(5, e.uid);
  text(6, e.user);
  text(7, e.process_uid);
  text(8, e.parent_uid);
  text(9, e.image);
  text(10, e.argv);
  text(11, e.json);
  const int rc = sqlite3_step(insert_);
  sqlite3_reset(insert_);
  sqlite3_clear_bindings(insert_);
  if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
  return true;
}

Result<bool> EventStore::commit() {
  if (!in_batch_) return true;
  in_batch_ = false;
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    return r;
  }
  return true;
}

void EventStore::rollback() {
  if (!in_batch_) return;
  in_batch_ = false;
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

Result<std::int64_t> EventStore::apply_retention(std::int64_t now_ns, std::int64_t keep_ns, std::int64_t max_bytes) {
  if (auto r = commit(); !r) return r.error();
  std::int64_t deleted = 0;
  if (keep_ns > 0) {
    std::string sql = fmt::format("DELETE FROM events WHERE time_ns < {}", now_ns - keep_ns);
    if (auto r = exec(sql.c_str()); !r) return r.error();
    deleted += sqlite3_changes64(db_);
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
      // The oldest tenth (at least 1,000 rows) per round.
      if (auto r = exec("DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT "
                        "max(1000, (SELECT count(*) FROM events) / 10))");
          !r) {
        return r.error();
      }
      std::int64_t n = sqlite3_changes64(db_);
      deleted += n;
      if (n == 0) break;
    }
  }
  return deleted;
}

}  // namespace procsentry
