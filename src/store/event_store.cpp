#include "store/event_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "store/store_file.h"
#include "store/store_functions.h"

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
    // 2: each text once (strings, with a trigram index of the plain ones: its content table is
    // the view strings_plain, so that FTS5's integrity-check compares it with what it indexes),
    // each JSON line
    // compressed (dictionaries), the columns in event_rows, and the view `events` with
    // schema 1's columns. process_uid is kept on first events only (the others name theirs
    // in first_id). parent_image_id and hash_id are indexed for retention only: it deletes a
    // string once no event names it, and must find that out without a scan.
    R"sql(
CREATE TABLE strings (id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, text TEXT NOT NULL, plain INTEGER NOT NULL);
CREATE VIEW strings_plain AS SELECT id, text FROM strings WHERE plain = 1;
CREATE VIRTUAL TABLE strings_fts USING fts5(text, content='strings_plain', content_rowid='id', tokenize='trigram',
  detail='none');
CREATE TABLE dictionaries (id INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE event_kinds (kind INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE event_rows (
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  pid INTEGER,
  ppid INTEGER,
  uid INTEGER,
  user_id INTEGER,
  process_uid TEXT,
  parent_uid TEXT,
  first_id INTEGER NOT NULL,
  image_id INTEGER,
  argv_id INTEGER,
  parent_image_id INTEGER,
  hash_id INTEGER,
  error INTEGER,
  dict_id INTEGER NOT NULL,
  body BLOB NOT NULL
);
INSERT INTO strings (hash, text, plain) SELECT procsentry_hash(t), t, procsentry_plain(t) FROM (
  SELECT user AS t FROM events UNION SELECT image FROM events UNION SELECT argv FROM events
  UNION SELECT json_extract(json, '$.parent_image') FROM events WHERE json_valid(json)
  UNION SELECT json_extract(json, '$.sha256') FROM events WHERE json_valid(json))
  WHERE typeof(t) = 'text' AND t != '';
CREATE INDEX strings_hash ON strings(hash);
INSERT INTO strings_fts (rowid, text) SELECT id, text FROM strings WHERE plain = 1;
INSERT INTO event_rows SELECT id, time_ns, procsentry_kind(event), pid, ppid, uid,
  (SELECT s.id FROM strings s WHERE s.hash = procsentry_hash(user) AND s.text = user),
  CASE WHEN first_id = id THEN process_uid END, parent_uid, first_id,
  (SELECT s.id FROM strings s WHERE s.hash = procsentry_hash(image) AND s.text = image),
  (SELECT s.id FROM strings s WHERE s.hash = procsentry_hash(argv) AND s.text = argv),
  (SELECT s.id FROM strings s WHERE s.hash = procsentry_hash(parent_image) AND s.text = parent_image),
  (SELECT s.id FROM strings s WHERE s.hash = procsentry_hash(sha256) AND s.text = sha256),
  error, 0, procsentry_compress(json) FROM (SELECT *,
    CASE WHEN json_valid(json) THEN json_extract(json, '$.parent_image') END AS parent_image,
    CASE WHEN json_valid(json) THEN json_extract(json, '$.sha256') END AS sha256,
    CASE WHEN event = 'exec_failed' AND json_valid(json) THEN json_extract(json, '$.errno') END AS error
    FROM events) ORDER BY id;
DROP TABLE events;
CREATE INDEX strings_unindexed ON strings(id) WHERE plain = 0;
CREATE INDEX event_rows_time ON event_rows(time_ns);
CREATE INDEX event_rows_first_id ON event_rows(first_id);
CREATE INDEX event_rows_process_uid ON event_rows(process_uid) WHERE first_id = id AND process_uid IS NOT NULL;
CREATE INDEX event_rows_pid ON event_rows(pid) WHERE first_id = id AND pid IS NOT NULL;
CREATE INDEX event_rows_parent_uid ON event_rows(parent_uid) WHERE parent_uid IS NOT NULL;
CREATE INDEX event_rows_image ON event_rows(image_id) WHERE image_id IS NOT NULL;
CREATE INDEX event_rows_argv ON event_rows(argv_id) WHERE argv_id IS NOT NULL;
CREATE INDEX event_rows_user ON event_rows(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX event_rows_parent_image ON event_rows(parent_image_id) WHERE parent_image_id IS NOT NULL;
CREATE INDEX event_rows_hash ON event_rows(hash_id) WHERE hash_id IS NOT NULL;
CREATE VIEW events AS SELECT e.id AS id, e.time_ns AS time_ns,
  (SELECT k.name FROM event_kinds k WHERE k.kind = e.kind) AS event, e.pid AS pid, e.ppid AS ppid, e.uid AS uid,
  (SELECT s.text FROM strings s WHERE s.id = e.user_id) AS user,
  CASE WHEN e.first_id = e.id THEN e.process_uid
    ELSE (SELECT f.process_uid FROM event_rows f WHERE f.id = e.first_id) END AS process_uid,
  e.parent_uid AS parent_uid, e.first_id AS first_id,
  (SELECT s.text FROM strings s WHERE s.id = e.image_id) AS image,
  (SELECT s.text FROM strings s WHERE s.id = e.argv_id) AS argv,
  procsentry_json(e.dict_id, e.body) AS json,
  (SELECT s.text FROM strings s WHERE s.id = e.parent_image_id) AS parent_image,
  (SELECT s.text FROM strings s WHERE s.id = e.hash_id) AS hash,
  e.error AS error
  FROM event_rows e;
)sql",
    // 3: indexes by time chunk. Every index whose key is not a time leads with the event's chunk
    // (id >> 16, store_chunks.h): a batch's entries land in the newest chunk's small subtree,
    // which stays in the writer's cache, and retention deletes whole old subtrees, instead of
    // pages all over each index. A lookup by key probes each chunk. Retention no longer needs
    // parent_image_id's and hash_id's indexes: each string keeps the newest event naming it
    // (last_id, kept by the writer once per string per commit), and goes once the oldest
    // remaining event is newer.
    R"sql(
ALTER TABLE strings ADD COLUMN last_id INTEGER NOT NULL DEFAULT 0;
UPDATE strings SET last_id = max(
  coalesce((SELECT max(e.id) FROM event_rows e WHERE e.image_id = strings.id), 0),
  coalesce((SELECT max(e.id) FROM event_rows e WHERE e.argv_id = strings.id), 0),
  coalesce((SELECT max(e.id) FROM event_rows e WHERE e.user_id = strings.id), 0),
  coalesce((SELECT max(e.id) FROM event_rows e WHERE e.parent_image_id = strings.id), 0),
  coalesce((SELECT max(e.id) FROM event_rows e WHERE e.hash_id = strings.id), 0));
CREATE INDEX strings_last ON strings(last_id);
DROP INDEX event_rows_process_uid;
DROP INDEX event_rows_pid;
DROP INDEX event_rows_parent_uid;
DROP INDEX event_rows_image;
DROP INDEX event_rows_argv;
DROP INDEX event_rows_user;
DROP INDEX event_rows_parent_image;
DROP INDEX event_rows_hash;
CREATE INDEX event_rows_process_uid ON event_rows(id >> 16, process_uid) WHERE first_id = id AND process_uid IS NOT NULL;
CREATE INDEX event_rows_pid ON event_rows(id >> 16, pid) WHERE first_id = id AND pid IS NOT NULL;
CREATE INDEX event_rows_parent_uid ON event_rows(id >> 16, parent_uid) WHERE parent_uid IS NOT NULL;
CREATE INDEX event_rows_image ON event_rows(id >> 16, image_id) WHERE image_id IS NOT NULL;
CREATE INDEX event_rows_argv ON event_rows(id >> 16, argv_id) WHERE argv_id IS NOT NULL;
CREATE INDEX event_rows_user ON event_rows(id >> 16, user_id) WHERE user_id IS NOT NULL;
)sql",
    // 4: parent_uid's index keeps a process's first event and those of its events whose parent
    // is not the first's (reparented, or a parent unknown at first); the writer marks the others
    // parent_inherited = 1, and a lookup by parent finds their process through its first event.
    // Of a fork, exec and exit, one entry instead of three: the index took a quarter of SQLite's
    // work per event (README). Rows written before keep their entries (harmless duplicates).
    R"sql(
ALTER TABLE event_rows ADD COLUMN parent_inherited INTEGER;
DROP INDEX event_rows_parent_uid;
CREATE INDEX event_rows_parent_uid ON event_rows(id >> 16, parent_uid)
  WHERE parent_uid IS NOT NULL AND parent_inherited IS NULL;
)sql",
    // 5: image's and user's indexes keep, of each block of 256 ids (id >> 8, store_chunks.h), the
    // first row with each value; the writer marks the block's later ones image_repeat = 1
    // (user_repeat), and a lookup reads the block from the marked row (repeat_marks.h). Of a
    // block, ~72 image and ~11 user entries instead of 256 each: the two indexes took a third of
    // SQLite's work per event (README). Rows written before stay unmarked (all indexed: exact).
    R"sql(
ALTER TABLE event_rows ADD COLUMN image_repeat INTEGER;
ALTER TABLE event_rows ADD COLUMN user_repeat INTEGER;
DROP INDEX event_rows_image;
DROP INDEX event_rows_user;
CREATE INDEX event_rows_image ON event_rows(id >> 16, image_id) WHERE image_id IS NOT NULL AND image_repeat IS NULL;
CREATE INDEX event_rows_user ON event_rows(id >> 16, user_id) WHERE user_id IS NOT NULL AND user_repeat IS NULL;
)sql",
    // 6: new events' bodies in blocks of consecutive events, one zstd frame each (body_block.h):
    // their rows keep an empty body, and procsentry_json finds it in the block holding their id.
    // zstd's work per event x1.8 less, bodies x1.6 smaller (README). Rows written before keep
    // their own frames. The view names the table in a constant argument: SQLite keeps the
    // function's reader of it from row to row (store_functions.cpp).
    R"sql(
CREATE TABLE body_blocks (key INTEGER PRIMARY KEY, count INTEGER NOT NULL, dict_id INTEGER NOT NULL,
  bytes BLOB NOT NULL);
DROP VIEW events;
CREATE VIEW events AS SELECT e.id AS id, e.time_ns AS time_ns,
  (SELECT k.name FROM event_kinds k WHERE k.kind = e.kind) AS event, e.pid AS pid, e.ppid AS ppid, e.uid AS uid,
  (SELECT s.text FROM strings s WHERE s.id = e.user_id) AS user,
  CASE WHEN e.first_id = e.id THEN e.process_uid
    ELSE (SELECT f.process_uid FROM event_rows f WHERE f.id = e.first_id) END AS process_uid,
  e.parent_uid AS parent_uid, e.first_id AS first_id,
  (SELECT s.text FROM strings s WHERE s.id = e.image_id) AS image,
  (SELECT s.text FROM strings s WHERE s.id = e.argv_id) AS argv,
  procsentry_json(e.dict_id, e.body, e.id, 'body_blocks') AS json,
  (SELECT s.text FROM strings s WHERE s.id = e.parent_image_id) AS parent_image,
  (SELECT s.text FROM strings s WHERE s.id = e.hash_id) AS hash,
  e.error AS error
  FROM event_rows e;
)sql",
    // 7: chunks of 8,192 events instead of 65,536 (store_chunks.h): a commit's entries, at random
    // in the newest chunk's part of each index by key, dirty fewer of its pages. Lookups name
    // eight times as many chunks. The indexes are rebuilt from the rows as they are.
    R"sql(
DROP INDEX event_rows_process_uid;
DROP INDEX event_rows_pid;
DROP INDEX event_rows_parent_uid;
DROP INDEX event_rows_image;
DROP INDEX event_rows_argv;
DROP INDEX event_rows_user;
CREATE INDEX event_rows_process_uid ON event_rows(id >> 13, process_uid) WHERE first_id = id AND process_uid IS NOT NULL;
CREATE INDEX event_rows_pid ON event_rows(id >> 13, pid) WHERE first_id = id AND pid IS NOT NULL;
CREATE INDEX event_rows_parent_uid ON event_rows(id >> 13, parent_uid)
  WHERE parent_uid IS NOT NULL AND parent_inherited IS NULL;
CREATE INDEX event_rows_image ON event_rows(id >> 13, image_id) WHERE image_id IS NOT NULL AND image_repeat IS NULL;
CREATE INDEX event_rows_argv ON event_rows(id >> 13, argv_id) WHERE argv_id IS NOT NULL;
CREATE INDEX event_rows_user ON event_rows(id >> 13, user_id) WHERE user_id IS NOT NULL AND user_repeat IS NULL;
)sql",
};
static_assert(std::size(kMigrations) == EventStore::kSchemaVersion);

}  // namespace

const char* schema_migration(int version) {
  return version >= 1 && version <= EventStore::kSchemaVersion ? kMigrations[version - 1] : nullptr;
}

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& path, int checkpoint_pages) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // Created private ourselves: SQLite would use the umask (POSIX) or the directory's ACL (Windows).
  if (auto created = create_private_store(path); !created) return created.error();

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{fmt::format("cannot open the database {}: {}", path, why)};
  }
  register_store_functions(db);
  std::unique_ptr<EventStore> store(new EventStore(db, path));
  sqlite3_busy_timeout(db, 5000);
  // page_size (a new file only; before WAL fixes it): 16 KiB pages make inserts ~35% cheaper
  // than 4 KiB (fewer page splits and WAL frames per event). WAL: readers (procsentry query)
  // never block the recorder. synchronous=NORMAL: a power loss may drop the last commits, a
  // crash of procsentry loses nothing committed, and the file is never corrupted.
  // cache_size: the newest chunk's subtree of each index (store_chunks.h), the tail of the table
  // and of the time index stay cached between commits (the default, 2 MiB, held less).
  for (const char* pragma :
       {"PRAGMA page_size=16384", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-32768"}) {
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
  if (version >= 1 && version <= 4) {
    // Migration 2 rewrites every event, 3, 4 and 5 reindex them: say why a start takes long.
    sqlite3_stmt* count = nullptr;
    const char* sql = version == 1 ? "SELECT max(id) FROM events" : "SELECT max(id) FROM event_rows";
    if (sqlite3_prepare_v2(db, sql, -1, &count, nullptr) == SQLITE_OK && sqlite3_step(count) == SQLITE_ROW &&
        sqlite3_column_int64(count, 0) >= 100'000) {
      fmt::print(stderr, "procsentry: converting the database {} to schema {} ({} events, once; {})\n", path,
                 kSchemaVersion, sqlite3_column_int64(count, 0),
                 version == 1 ? "about a minute a million" : "a few seconds a million");
    }
    sqlite3_finalize(count);
  }
  for (int next = version + 1; next <= kSchemaVersion; ++next) {
    std::string step = fmt::format("BEGIN IMMEDIATE; {} PRAGMA user_version={}; COMMIT;", kMigrations[next - 1], next);
    if (auto r = store->exec(step.c_str()); !r) {
      (void)store->exec("ROLLBACK");
      return Error{fmt::format("database {}: migrating to schema {} failed: {}", path, next, r.error().message)};
    }
  }
  // The names the view shows, from this build: a kind added later gets its name here.
  std::string kinds = "INSERT OR REPLACE INTO event_kinds (kind, name) VALUES ";
  for (auto kind = static_cast<int>(EventKind::exec); kind <= static_cast<int>(kLastEventKind); ++kind) {
    kinds += fmt::format("{}({}, '{}')", kind == static_cast<int>(EventKind::exec) ? "" : ",", kind,
                         to_string(static_cast<EventKind>(kind)));
  }
  if (auto r = store->exec(kinds.c_str()); !r) return Error{fmt::format("database {}: {}", path, r.error().message)};
  if (auto r = store->prepare(); !r) return Error{fmt::format("database {}: {}", path, r.error().message)};
  if (auto r = store->load_dictionary(); !r) return Error{fmt::format("database {}: {}", path, r.error().message)};
  if (auto r = store->start_checkpointer(checkpoint_pages); !r) return r.error();
  return store;
}

EventStore::~EventStore() {
  if (in_batch_) (void)commit();
  for (sqlite3_stmt* stmt :
       {insert_one_, insert_many_, max_id_, find_string_, insert_string_, index_string_, string_used_, insert_block_}) {
    sqlite3_finalize(stmt);
  }
  // The checkpointer's connection first: the last one to close checkpoints the WAL into the
  // database and removes it.
  checkpointer_.reset();
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
  // dict_id 0 and an empty body: the body is in body_blocks (schema 6).
  const std::string row = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,X'',?,?)";
  std::string one =
      "INSERT OR ROLLBACK INTO event_rows (id, time_ns, kind, pid, ppid, uid, user_id, process_uid, parent_uid, "
      "parent_inherited, first_id, image_id, argv_id, parent_image_id, hash_id, error, dict_id, body, image_repeat, "
      "user_repeat) VALUES " +
      row;
  std::string many = one;
  for (std::size_t i = 1; i < kRowsPerInsert; ++i) many += "," + row;
  const std::pair<const std::string, sqlite3_stmt**> statements[] = {
      {one, &insert_one_},
      {many, &insert_many_},
      {"SELECT max(id) FROM event_rows", &max_id_},
      {"SELECT id, last_id FROM strings WHERE hash = ?1 AND text = ?2", &find_string_},
      {"INSERT OR ROLLBACK INTO strings (hash, text, plain, last_id) VALUES (?, ?, ?, ?)", &insert_string_},
      {"UPDATE OR ROLLBACK strings SET last_id = ?2 WHERE id = ?1 AND last_id < ?2", &string_used_},
      {"INSERT OR ROLLBACK INTO strings_fts (rowid, text) VALUES (?, ?)", &index_string_},
      {"INSERT OR ROLLBACK INTO body_blocks (key, count, dict_id, bytes) VALUES (?, ?, ?, ?)", &insert_block_},
  };
  for (const auto& [sql, stmt] : statements) {
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
      return Error{sqlite3_errmsg(db_)};
    }
  }
  return true;
}

Result<bool> EventStore::load_dictionary() {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT id, bytes FROM dictionaries ORDER BY id DESC LIMIT 1", -1, &stmt, nullptr) !=
      SQLITE_OK) {
    return Error{sqlite3_errmsg(db_)};
  }
  Result<bool> used = true;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, 1));
    used = encoder_.use_dictionary(sqlite3_column_int64(stmt, 0),
                                   std::string_view(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1))));
  } else if (rc == SQLITE_DONE) {
    used = encoder_.use_dictionary(0, {});
  } else {
    used = Error{sqlite3_errmsg(db_)};
  }
  sqlite3_finalize(stmt);
  return used;
}

Result<bool> EventStore::start_checkpointer(int checkpoint_pages) {
  checkpoint_pages_ = checkpoint_pages;
  auto checkpointer = WalCheckpointer::start(path_);
  if (!checkpointer) return checkpointer.error();
  checkpointer_ = std::move(*checkpointer);
  // Replaces SQLite's automatic checkpoint (itself a WAL hook), which ran inside COMMIT.
  sqlite3_wal_hook(
      db_,
      [](void* arg, sqlite3* db, const char*, int pages) {
        auto* self = static_cast<EventStore*>(arg);
        self->wal_pages_ = pages;
        if (pages < self->checkpoint_pages_) return SQLITE_OK;
        self->checkpointer_->notify(pages);
        if (pages >= self->checkpoint_pages_ * kCheckpointLag) {
          // SQLITE_BUSY: the thread is at it, and nothing was copied here.
          if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) == SQLITE_OK) {
            ++self->writer_checkpoints_;
          }
        }
        return SQLITE_OK;
      },
      this);
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
  // Another writer's rows in the block, or ours gone: what block_ saw may not be there.
  if (next_id_ != block_next_id_) block_.clear();
  in_batch_ = true;
  return true;
}

Result<std::int64_t> EventStore::string_id(std::string_view text) {
  if (text.empty()) return 0;
  const std::int64_t hash = store_string_hash(text);  // once: the cache's and the column's
  StringCache::Entry* entry = strings_.find(hash, text);
  StringCache::Entry uncached;
  if (entry == nullptr) {
    auto found = find_or_add_string(hash, text);
    if (!found) return found.error();
    entry = strings_.add(hash, text, *found);
    if (entry == nullptr) entry = &(uncached = *found);
  }
  if (entry->last_id < next_id_ - string_slack_) {
    used_strings_.push_back({entry->id, next_id_});
    entry->last_id = next_id_;  // forget_batch forgets it with the cache, should the batch go
  }
  return entry->id;
}

Result<StringCache::Entry> EventStore::find_or_add_string(std::int64_t hash, std::string_view text) {
  const int length = static_cast<int>(text.size());
  sqlite3_bind_int64(find_string_, 1, hash);
  sqlite3_bind_text(find_string_, 2, text.data(), length, SQLITE_STATIC);
  int rc = sqlite3_step(find_string_);
  StringCache::Entry entry;
  if (rc == SQLITE_ROW) entry = {sqlite3_column_int64(find_string_, 0), sqlite3_column_int64(find_string_, 1)};
  sqlite3_reset(find_string_);
  if (rc == SQLITE_ROW) return entry;
  if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
  const bool plain = store_string_plain(text);
  sqlite3_bind_int64(insert_string_, 1, hash);
  sqlite3_bind_text(insert_string_, 2, text.data(), length, SQLITE_STATIC);
  sqlite3_bind_int(insert_string_, 3, plain ? 1 : 0);
  sqlite3_bind_int64(insert_string_, 4, next_id_);  // the event being added names it
  rc = sqlite3_step(insert_string_);
  sqlite3_reset(insert_string_);
  if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
  entry = {sqlite3_last_insert_rowid(db_), next_id_};
  if (plain) {  // the trigram index, in the same transaction: never out of step
    sqlite3_bind_int64(index_string_, 1, entry.id);
    sqlite3_bind_text(index_string_, 2, text.data(), length, SQLITE_STATIC);
    rc = sqlite3_step(index_string_);
    sqlite3_reset(index_string_);
    if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
  }
  return entry;
}

Result<bool> EventStore::sample_for_dictionary(std::string_view json) {
  ++since_dictionary_;
  if (auto dictionary = trainer_.take(); dictionary && *dictionary) {  // none learnt: the next samples may do
    if (auto r = add_dictionary(**dictionary); !r) return r;
  }
  const bool sampling = !trainer_.busy() && (encoder_.dictionary_id() == 0 || since_dictionary_ > kRetrainEvents);
  if (!sampling || json.size() > 16 * 1024) return true;  // a 40 KiB argv teaches little
  samples_ += json;
  sample_sizes_.push_back(json.size());
  if (sample_sizes_.size() < kDictionarySamples && samples_.size() < kDictionarySampleBytes) return true;
  trainer_.start(std::exchange(samples_, {}), std::exchange(sample_sizes_, {}), kDictionaryBytes);
  since_dictionary_ = 0;
  return true;
}

Result<bool> EventStore::add_dictionary(const std::string& dictionary) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "INSERT OR ROLLBACK INTO dictionaries (bytes) VALUES (?)", -1, &stmt, nullptr) !=
      SQLITE_OK) {
    return Error{sqlite3_errmsg(db_)};
  }
  sqlite3_bind_blob(stmt, 1, dictionary.data(), static_cast<int>(dictionary.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
  dictionary_in_batch_ = true;
  return encoder_.use_dictionary(sqlite3_last_insert_rowid(db_), dictionary);
}

Result<bool> EventStore::insert(const StoreRow& e) {
  if (!in_batch_) {
    if (auto r = begin(); !r) return r;
  }
  Row& row = rows_[pending_];
  row.id = next_id_;
  row.first_id = row.id;
  row.parent_inherited = false;
  if (!e.process_uid.empty()) {
    const std::int64_t hash = store_string_hash(e.process_uid);
    First* first = firsts_.find(hash, e.process_uid);
    if (first != nullptr && first->pid == e.pid) {
      row.first_id = first->id;
      row.parent_inherited =
          first->parent_kept && !e.parent_uid.empty() && e.parent_uid == firsts_.text(first->parent_uid);
    } else {  // all events naming a first have its pid
      if (first == nullptr) first = firsts_.add(hash, e.process_uid, {});
      if (first != nullptr) {
        const std::optional<TextRef> parent = firsts_.keep(e.parent_uid);  // after the add: it may start over
        *first = {row.id, e.pid, parent.value_or(TextRef{}), parent.has_value()};
      }
    }
  }
  row.time_ns = e.time_ns;
  row.kind = e.kind;
  row.pid = e.pid;
  row.ppid = e.ppid;
  row.uid = e.uid;
  row.error = e.error;
  row.process_uid.assign(row.first_id == row.id ? e.process_uid : std::string_view());
  row.parent_uid = e.parent_uid;
  const std::pair<std::string_view, std::int64_t*> texts[] = {{e.user, &row.user_id},
                                                              {e.image, &row.image_id},
                                                              {e.argv, &row.argv_id},
                                                              {e.parent_image, &row.parent_image_id},
                                                              {e.hash, &row.hash_id}};
  for (const auto& [text, id] : texts) {
    auto found = string_id(text);
    if (!found) {
      rollback();
      return found.error();
    }
    *id = *found;
  }
  block_.start(row.id);
  row.image_repeat = block_.image_repeats(row.image_id);
  row.user_repeat = block_.user_repeats(row.user_id);
  block_next_id_ = row.id + 1;
  if (!bodies_.takes(row.id, e.json)) {
    if (auto r = seal_block(); !r) return r;
  }
  bodies_.add(row.id, e.json);
  ++next_id_;
  ++pending_;
  if (auto r = sample_for_dictionary(e.json); !r) {
    rollback();
    return r;
  }
  if (bodies_.full()) {
    if (auto r = seal_block(); !r) return r;
  }
  if (pending_ == kRowsPerInsert) return flush();
  return true;
}

Result<bool> EventStore::seal_block() {
  if (bodies_.empty()) return true;
  // With the dictionary of now: one the batch added since the block began goes with it.
  auto compressed = encoder_.encode(bodies_.bytes());
  if (!compressed) {
    rollback();
    return compressed.error();
  }
  int rc = SQLITE_DONE;
  std::size_t at = 0;
  std::int64_t part = 0;
  for (const std::size_t size : body_part_sizes(compressed->size())) {
    sqlite3_bind_int64(insert_block_, 1, body_part_key(bodies_.first_id(), part++));
    sqlite3_bind_int64(insert_block_, 2, static_cast<std::int64_t>(bodies_.count()));
    sqlite3_bind_int64(insert_block_, 3, encoder_.dictionary_id());
    sqlite3_bind_blob(insert_block_, 4, compressed->data() + at, static_cast<int>(size), SQLITE_STATIC);
    at += size;
    rc = sqlite3_step(insert_block_);
    sqlite3_reset(insert_block_);
    if (rc != SQLITE_DONE) break;
  }
  bodies_.clear();
  if (rc != SQLITE_DONE) {
    Error error{sqlite3_errmsg(db_)};
    rollback();
    return error;
  }
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
  auto id = [&](std::int64_t value) {  // 0: none
    if (value != 0) {
      sqlite3_bind_int64(stmt, i++, value);
    } else {
      sqlite3_bind_null(stmt, i++);
    }
  };
  sqlite3_bind_int64(stmt, i++, row.id);
  sqlite3_bind_int64(stmt, i++, row.time_ns);
  sqlite3_bind_int(stmt, i++, static_cast<int>(row.kind));
  number(row.pid);
  number(row.ppid);
  number(row.uid);
  id(row.user_id);
  text(row.process_uid);
  text(row.parent_uid);
  id(row.parent_inherited ? 1 : 0);
  sqlite3_bind_int64(stmt, i++, row.first_id);
  id(row.image_id);
  id(row.argv_id);
  id(row.parent_image_id);
  id(row.hash_id);
  id(row.error);
  id(row.image_repeat ? 1 : 0);
  id(row.user_repeat ? 1 : 0);
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

Result<bool> EventStore::mark_used_strings() {
  int rc = SQLITE_DONE;
  for (auto it = used_strings_.begin(); rc == SQLITE_DONE && it != used_strings_.end(); ++it) {
    sqlite3_bind_int64(string_used_, 1, it->string_id);
    sqlite3_bind_int64(string_used_, 2, it->event_id);
    rc = sqlite3_step(string_used_);
    sqlite3_reset(string_used_);
  }
  used_strings_.clear();
  if (rc == SQLITE_DONE) return true;
  Error error{sqlite3_errmsg(db_)};
  rollback();
  return error;
}

Result<bool> EventStore::commit() {
  if (!in_batch_) return true;
  if (auto r = flush(); !r) return r;
  if (auto r = seal_block(); !r) return r;
  if (auto r = mark_used_strings(); !r) return r;
  in_batch_ = false;
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    forget_batch();
    return r;
  }
  dictionary_in_batch_ = false;
  return true;
}

void EventStore::rollback() {
  if (!in_batch_) return;
  in_batch_ = false;
  pending_ = 0;
  (void)exec("ROLLBACK");  // fails harmlessly if SQLite already rolled back (e.g. SQLITE_FULL)
  forget_batch();
}

void EventStore::forget_batch() {
  used_strings_.clear();
  bodies_.clear();
  block_.clear();    // it may have seen the abandoned rows only
  firsts_.clear();   // they may name events of the abandoned batch
  strings_.clear();  // and strings it added, and last_id it did not write
  if (dictionary_in_batch_) {
    dictionary_in_batch_ = false;
    if (!load_dictionary()) (void)encoder_.use_dictionary(0, {});  // the one before is gone too
  }
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

std::int64_t EventStore::used_bytes() {
  // Deleting frees pages for reuse; the file shrinks only by VACUUM, so the bound is on
  // the pages in use: page_count - freelist_count.
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
  return used;
}

namespace {

// A statement prepared for one retention chunk, finalized with it.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  explicit operator bool() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }
  // Steps a statement that returns nothing (its parameters bound first) and resets it.
  bool run() {
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    return rc == SQLITE_DONE;
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

Result<std::int64_t> EventStore::delete_chunk(const std::string& where, const char* order,
                                              std::chrono::steady_clock::time_point deadline) {
  firsts_.clear();   // it may name deleted events
  strings_.clear();  // and deleted strings
  block_.clear();    // and rows of the block being written
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r.error();
  auto fail = [&](const char* what) {
    Error error{fmt::format("retention ({}): {}", what, sqlite3_errmsg(db_))};
    (void)exec("ROLLBACK");
    return error;
  };
  std::vector<std::int64_t> ids;
  std::unordered_map<std::int64_t, std::string> firsts;       // first events among ids, with their process_uid
  std::vector<std::pair<std::int64_t, std::int64_t>> marked;  // per id: its image and user ids where marked, or 0
  {
    Statement select(db_, fmt::format("SELECT id, first_id, process_uid, CASE WHEN image_repeat IS NULL THEN "
                                      "image_id END, CASE WHEN user_repeat IS NULL THEN user_id END FROM event_rows "
                                      "WHERE {} ORDER BY {} LIMIT {}",
                                      where, order, kRetentionChunk));
    if (!select) return fail("select");
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
      sqlite3_stmt* s = select.get();
      ids.push_back(sqlite3_column_int64(s, 0));
      marked.emplace_back(sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4));  // NULL: 0
      if (sqlite3_column_int64(s, 1) == ids.back()) {
        const auto* uid = reinterpret_cast<const char*>(sqlite3_column_text(s, 2));
        firsts.emplace(ids.back(), uid != nullptr ? uid : "");
      }
    }
    if (rc != SQLITE_DONE) return fail("select");
  }
  Statement remove(db_, "DELETE FROM event_rows WHERE id = ?");
  // The process's oldest remaining event becomes its first: the others name it, and it
  // carries the process_uid.
  Statement oldest(db_, "SELECT min(id) FROM event_rows WHERE first_id = ?");
  // The process's events are indexed by parent_uid again: the new first may have another parent.
  Statement rename(db_, "UPDATE event_rows SET first_id = ?2, parent_inherited = NULL WHERE first_id = ?1");
  Statement carry(db_, "UPDATE event_rows SET process_uid = ?2 WHERE id = ?1");
  if (!remove) return fail("delete");
  if (!oldest || !rename || !carry) return fail("first events");
  // Event by event, each first event's successor named at once (it may be among the next
  // ids), until the deadline: a first event's successor is found in pages of later events,
  // read from disk when cold, and a transaction holds recording up until it commits.
  std::size_t deleted = 0;
  BlockRemarks remarks;
  while (deleted < ids.size() && (deleted == 0 || std::chrono::steady_clock::now() < deadline)) {
    const std::int64_t id = ids[deleted];
    remarks.deleted(id, marked[deleted].first, marked[deleted].second);
    ++deleted;
    sqlite3_bind_int64(remove.get(), 1, id);
    if (!remove.run()) return fail("delete");
    auto first = firsts.find(id);
    if (first == firsts.end()) continue;
    const std::string uid = std::move(first->second);
    firsts.erase(first);
    sqlite3_bind_int64(oldest.get(), 1, id);
    const int rc = sqlite3_step(oldest.get());
    const bool remains = rc == SQLITE_ROW && sqlite3_column_type(oldest.get(), 0) != SQLITE_NULL;
    const std::int64_t next = remains ? sqlite3_column_int64(oldest.get(), 0) : 0;
    sqlite3_reset(oldest.get());
    if (rc != SQLITE_ROW) return fail("first events");
    if (!remains) continue;
    sqlite3_bind_int64(rename.get(), 1, id);
    sqlite3_bind_int64(rename.get(), 2, next);
    sqlite3_bind_int64(carry.get(), 1, next);
    if (uid.empty()) {
      sqlite3_bind_null(carry.get(), 2);
    } else {
      sqlite3_bind_text(carry.get(), 2, uid.data(), static_cast<int>(uid.size()), SQLITE_STATIC);
    }
    if (!rename.run() || !carry.run()) return fail("first events");
    firsts[next] = uid;  // should it go too, in this transaction
  }
  // A block's next row with a deleted row's image (user) is indexed in its place.
  if (auto r = remarks.apply(db_); !r) {
    (void)exec("ROLLBACK");
    return r.error();
  }
  // Body blocks older than the oldest remaining event's go (all of them once no event is left).
  // Its own block stays whole: deleted by time, a late event of a block may outlive the rest.
  // The last key below the next id's first part's is of the block holding the oldest event.
  if (!Statement(db_, fmt::format("DELETE FROM body_blocks WHERE key < coalesce((SELECT max(key) >> {0} << {0} FROM "
                                  "body_blocks WHERE key < ((SELECT min(id) FROM event_rows) + 1) << {0}), "
                                  "9223372036854775807)",
                                  kBodyPartBits))
           .run()) {
    return fail("body blocks");
  }
  // Strings no remaining event names go, with their trigram index entries: those whose newest
  // event (last_id, up to string_slack_ behind) is older than the oldest remaining one by more
  // than the slack (all of them once no event is left).
  struct Unused {
    std::int64_t id;
    bool indexed;
    std::string text;
  };
  std::vector<Unused> unused;
  {
    Statement select(db_, fmt::format("SELECT id, CASE WHEN plain = 1 THEN text END FROM strings WHERE last_id < "
                                      "coalesce((SELECT min(id) FROM event_rows) - {}, 9223372036854775807)",
                                      string_slack_));
    if (!select) return fail("strings");
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
      const auto* text = static_cast<const char*>(sqlite3_column_blob(select.get(), 1));
      unused.push_back(
          {sqlite3_column_int64(select.get(), 0), text != nullptr,
           std::string(text != nullptr ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(select.get(), 1)))});
    }
    if (rc != SQLITE_DONE) return fail("strings");
  }
  // A one-row 'delete' (OR ROLLBACK): an INSERT ... SELECT into strings_fts would open a
  // statement savepoint, and FTS5 writes out its pending changes at each one (150 us a string
  // instead of a few).
  Statement unindex(db_, "INSERT OR ROLLBACK INTO strings_fts (strings_fts, rowid, text) VALUES ('delete', ?1, ?2)");
  Statement drop(db_, "DELETE FROM strings WHERE id = ?1");
  if (!unindex || !drop) return fail("strings");
  for (const Unused& string : unused) {
    if (string.indexed) {  // its trigrams go first
      sqlite3_bind_int64(unindex.get(), 1, string.id);
      sqlite3_bind_text(unindex.get(), 2, string.text.data(), static_cast<int>(string.text.size()), SQLITE_STATIC);
      if (!unindex.run()) return fail("strings");
    }
    sqlite3_bind_int64(drop.get(), 1, string.id);
    if (!drop.run()) return fail("strings");
  }
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    return r.error();
  }
  return static_cast<std::int64_t>(deleted);
}

Result<std::int64_t> EventStore::apply_retention_step(std::int64_t now_ns, std::int64_t keep_ns, std::int64_t max_bytes,
                                                      std::chrono::steady_clock::time_point deadline) {
  if (auto r = commit(); !r) return r.error();
  if (keep_ns > 0) {
    // By time_ns (its index, no sort): the oldest events first.
    auto n = delete_chunk(fmt::format("time_ns < {}", now_ns - keep_ns), "time_ns", deadline);
    if (!n || *n > 0) return n;
  }
  if (max_bytes > 0 && used_bytes() > max_bytes) return delete_chunk("1", "id", deadline);
  return 0;
}

Result<std::int64_t> EventStore::apply_retention(std::int64_t now_ns, std::int64_t keep_ns, std::int64_t max_bytes) {
  std::int64_t deleted = 0;
  for (;;) {
    auto n = apply_retention_step(now_ns, keep_ns, max_bytes);
    if (!n) return n;
    if (*n == 0) return deleted;
    deleted += *n;
  }
}

}  // namespace procsentry
