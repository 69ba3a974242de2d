// The embedded event store: one SQLite database (WAL, batched transactions), the schema
// versioned with PRAGMA user_version and migrated on open. Files are created 0600: command
// lines hold secrets.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "store/store_row.h"

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

  // Adds one event's row to the open batch (its JSON Lines form is kept whole); the row is
  // copied, and written by this call or a later one. An error abandons the open batch.
  Result<bool> insert(const StoreRow& row);
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
  Result<bool> begin();
  Result<bool> flush();  // inserts the buffered rows
  // Deletes the events matching `where` in one transaction; a process whose first stored
  // event goes gets its oldest remaining event as its new first.
  Result<std::int64_t> delete_events(const std::string& where);

  // A process's first stored event: later events with its process_uid and pid name it in
  // first_id, so only first events need entries in the process_uid and pid indexes.
  struct First {
    std::int64_t id;
    std::optional<std::uint32_t> pid;
  };
  static constexpr std::size_t kMaxFirsts = 1 << 16;  // forgetting one costs one more first event

  // An event waiting for its INSERT, copied: the row's bytes may be gone by then.
  struct Row {
    std::int64_t id = 0, first_id = 0, time_ns = 0;
    EventKind kind = EventKind::exec;
    std::optional<std::uint32_t> pid, ppid, uid;
    std::string user, process_uid, parent_uid, image, argv, json;
  };
  // Rows per INSERT statement: one statement's cursors (and allocations) serve them all.
  static constexpr std::size_t kRowsPerInsert = 32;
  static constexpr int kColumns = 13;  // parameters per row
  static void bind(sqlite3_stmt* stmt, int first_parameter, const Row& row);

  sqlite3* db_ = nullptr;
  std::string path_;
  sqlite3_stmt* insert_one_ = nullptr;
  sqlite3_stmt* insert_many_ = nullptr;  // kRowsPerInsert rows
  sqlite3_stmt* max_id_ = nullptr;
  bool in_batch_ = false;
  std::int64_t next_id_ = 1;
  std::unordered_map<std::string, First> firsts_;  // process_uid -> its first stored event
  std::string key_;
  std::vector<Row> rows_ = std::vector<Row>(kRowsPerInsert);
  std::size_t pending_ = 0;  // rows_ not inserted yet
};

// The default database: /var/lib/procsentry/events.db as root, else
// $XDG_STATE_HOME/procsentry/events.db (~/.local/state/...).
std::string default_database_path();

}  // namespace procsentry
