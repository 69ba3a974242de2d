// The embedded event store: one SQLite database (WAL, batched transactions), the schema
// versioned with PRAGMA user_version and migrated on open. Files are created 0600: command
// lines hold secrets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "sinks/fanout/event_snapshot.h"

struct sqlite3;
struct sqlite3_stmt;

namespace procsentry {

class EventStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Creates the file (0600) and its schema if needed; migrates an older schema; refuses a
  // newer one. One line of error, saying what to do.
  static Result<std::unique_ptr<EventStore>> open(const std::string& path);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Adds one event to the open batch (its JSON Lines form is kept whole).
  Result<bool> insert(const EventSnapshot& event);
  // Commits the open batch. An error leaves the batch's events uncommitted (lost).
  Result<bool> commit();
  // Abandons the open batch.
  void rollback();
  // Deletes events older than `keep_ns` before `now_ns` (0: no age limit) and, while the
  // database is larger than `max_bytes` (0: no size limit), the oldest events. Returns how
  // many events it deleted.
  Result<std::int64_t> apply_retention(std::int64_t now_ns, std::int64_t keep_ns, std::int64_t max_bytes);
  std::int64_t size_bytes();

  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }

 private:
  EventStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<bool> prepare();
  Result<bool> exec(const char* sql);

  sqlite3* db_ = nullptr;
  std::string path_;
  sqlite3_stmt* insert_ = nullptr;
  bool in_batch_ = false;
};

// The default database: /var/lib/procsentry/events.db as root, else
// $XDG_STATE_HOME/procsentry/events.db (~/.local/state/...).
std::string default_database_path();

}  // namespace procsentry
