// The embedded event store: one SQLite database (WAL, batched transactions), the schema
// versioned with PRAGMA user_version and migrated on open. Files are created 0600: command
// lines hold secrets. Schema 2 stores each text (image, command line, user, hash) once in
// `strings` (with a trigram index for substring search) and each event's JSON compressed;
// the `events` view shows them as schema 1's table did (store_functions.h). Schema 3 leads the
// indexes by key with the event's time chunk (store_chunks.h); schema 4 indexes parent_uid
// on the events whose parent is not their first event's; schema 5 indexes image and user on the
// first row of each value in a block of ids only (repeat_marks.h); schema 6 compresses the
// bodies of consecutive events together (body_block.h); schema 7 makes the chunks smaller.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "store/body_block.h"
#include "store/body_codec.h"
#include "store/dictionary_trainer.h"
#include "store/repeat_marks.h"
#include "store/store_file.h"  // default_database_path()
#include "store/store_row.h"
#include "store/string_cache.h"
#include "store/wal_checkpointer.h"

struct sqlite3;
struct sqlite3_stmt;

namespace procsentry {

class EventStore {
 public:
  static constexpr int kSchemaVersion = 7;
  // Events deleted per retention transaction: a day of a busy store goes in many short
  // transactions, with the recorder's commits in between (StoreWriter).
  // 250: a quarter of the 1,000 store_bench's BM_RetentionChunk timed at ~25 ms of CPU, warm;
  // on cold pages it takes several times that, so a transaction also stops at a deadline.
  static constexpr std::int64_t kRetentionChunk = 250;
  // The body dictionary: trained on the first kDictionarySamples events' JSON (or
  // kDictionarySampleBytes), and again on
  // the kDictionarySamples after each kRetrainEvents events (what runs changes over time).
  // Training takes ~0.1 s of CPU per MiB of samples, on the trainer's thread
  // (dictionary_trainer.h); beyond 1 MiB (2,000 typical events) the dictionary compresses no
  // better (bench/store_bench).
  static constexpr std::size_t kDictionarySamples = 2000;
  static constexpr std::size_t kDictionarySampleBytes = 1u << 20;
  static constexpr std::size_t kDictionaryBytes = 32 * 1024;
  static constexpr std::uint64_t kRetrainEvents = 1'000'000;
  // The WAL is checkpointed by a thread of its own (wal_checkpointer.h) from this many pages
  // (SQLite's automatic threshold: 16 MiB of 16 KiB pages). The WAL starts over only if a
  // transaction begins once all of it is copied, which a checkpoint on another thread seldom
  // finishes in time between the writer's transactions (retention's follow each other): past
  // kCheckpointLag times the threshold the writer copies what the thread has not yet (PASSIVE:
  // nothing if the thread is at it), so that the WAL stays bounded. With a lag of 16 the WAL
  // grew to 300 MB while retention ran, and the writer's copy paused recording for 1.3 s.
  static constexpr int kCheckpointPages = 1000;
  static constexpr int kCheckpointLag = 2;
  // A string's last_id may lag its newest event by this many events: the writer rewrites it only
  // once it is that old (a hot text: once per 65,536 events, not in every commit, each rewrite a
  // random write to `strings` and its last_id index), and retention deletes a string only when
  // last_id < (the oldest remaining event) - kStringSlack. The trade: a string no event names any
  // more stays up to kStringSlack events longer. Never lowered: stores written with it rely on it.
  static constexpr std::int64_t kStringSlack = std::int64_t{1} << 16;

  // Creates the file (0600) and its schema if needed; migrates an older schema; refuses a
  // newer one. One line of error, saying what to do. `checkpoint_pages`: tests make it small.
  static Result<std::unique_ptr<EventStore>> open(const std::string& path, int checkpoint_pages = kCheckpointPages);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Adds one event's row to the open batch (its texts stored once in `strings`, its JSON
  // Lines object in a block of bodies); written by this call or a later one. An error abandons the
  // open batch.
  Result<bool> insert(const StoreRow& row);
  // Commits the open batch. An error leaves the batch's events uncommitted (lost).
  Result<bool> commit();
  // Abandons the open batch.
  void rollback();
  // Deletes events older than `keep_ns` before `now_ns` (0: no age limit) and, while the
  // database is larger than `max_bytes` (0: no size limit), the oldest events. Returns how
  // many events it deleted.
  Result<std::int64_t> apply_retention(std::int64_t now_ns, std::int64_t keep_ns, std::int64_t max_bytes);
  // The same in one transaction of at most kRetentionChunk events, and no more once
  // `deadline` has passed (but at least one): 0 when there is nothing left to delete.
  Result<std::int64_t> apply_retention_step(
      std::int64_t now_ns, std::int64_t keep_ns, std::int64_t max_bytes,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  std::int64_t size_bytes();

  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }
  // Checkpoints the checkpointer's thread completed (tests).
  std::uint64_t background_checkpoints() const { return checkpointer_ ? checkpointer_->checkpoints() : 0; }
  // A batch's transaction is open (insert() began it).
  bool batch_open() const { return in_batch_; }
  // The WAL's frames after the last commit (since it last started over).
  int wal_pages() const { return wal_pages_; }
  // The checkpointer's thread has a checkpoint to run or is running one (wal_checkpointer.h).
  bool checkpoint_pending() const { return checkpointer_ && checkpointer_->busy(); }
  // Checkpoints the writer ran itself in its commits, past kCheckpointLag (bench, tests).
  std::uint64_t writer_checkpoints() const { return writer_checkpoints_; }
  // The dictionary new bodies are compressed with (0: none yet).
  std::int64_t dictionary_id() const { return encoder_.dictionary_id(); }
  // Cached string ids (a test checks that an abandoned batch leaves none behind).
  std::size_t cached_strings() const { return strings_.size(); }
  // Tests: a small slack, so that a few events cross it. Every writer and retention of a store
  // must use one slack.
  void set_string_slack(std::int64_t events) { string_slack_ = events; }

 private:
  EventStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<bool> prepare();
  Result<bool> exec(const char* sql);
  Result<bool> begin();
  Result<bool> flush();       // inserts the buffered rows
  Result<bool> seal_block();  // compresses and inserts the bodies of bodies_
  // Sets strings.last_id of the strings string_id marked (kStringSlack).
  Result<bool> mark_used_strings();
  // Forgets what the abandoned batch may have added: string ids, first events, a dictionary.
  void forget_batch();
  Result<bool> load_dictionary();  // the newest one, if any
  Result<bool> start_checkpointer(int checkpoint_pages);
  // The id of `text` in `strings` (0 for an empty text: NULL), added if new, named by the event
  // being added (next_id_): its last_id marked for the commit when kStringSlack events old.
  Result<std::int64_t> string_id(std::string_view text);
  // The row of `text` (hash: store_string_hash) in `strings`, added if new (a query each).
  Result<StringCache::Entry> find_or_add_string(std::int64_t hash, std::string_view text);
  // Collects the event's JSON as a training sample, and has the trainer start on enough of
  // them; a dictionary it finished goes in the batch, and compresses from this event on.
  Result<bool> sample_for_dictionary(std::string_view json);
  Result<bool> add_dictionary(const std::string& dictionary);
  // Deletes at most kRetentionChunk events matching `where`, in `order`, in one transaction;
  // a process whose first stored event goes gets its oldest remaining event as its new
  // first, and strings no event names any more go with their index entries.
  Result<std::int64_t> delete_chunk(const std::string& where, const char* order,
                                    std::chrono::steady_clock::time_point deadline);
  std::int64_t used_bytes();

  // A process's first stored event: later events with its process_uid and pid name it in
  // first_id, so only first events need entries in the process_uid and pid indexes.
  struct First {
    std::int64_t id = 0;
    std::optional<std::uint32_t> pid;
    // The first's parent_uid, in firsts_: later events with the same are not indexed by it.
    TextRef parent_uid;
    bool parent_kept = false;  // false: none is taken as the same
  };
  static constexpr std::size_t kMaxFirsts = 1 << 16;  // forgetting one costs one more first event

  // An event waiting for its INSERT, copied: the row's bytes may be gone by then.
  struct Row {
    std::int64_t id = 0, first_id = 0, time_ns = 0;
    EventKind kind = EventKind::exec;
    std::optional<std::uint32_t> pid, ppid, uid;
    std::int64_t user_id = 0, image_id = 0, argv_id = 0, parent_image_id = 0, hash_id = 0;  // 0: NULL
    std::int32_t error = 0;
    bool parent_inherited = false;                   // parent_uid is its first event's (schema 4)
    bool image_repeat = false, user_repeat = false;  // an earlier row of its block has it (schema 5)
    std::string process_uid, parent_uid;             // process_uid on a first event only
  };
  // Rows per INSERT statement: one statement's cursors (and allocations) serve them all.
  static constexpr std::size_t kRowsPerInsert = 32;
  static constexpr int kColumns = 18;  // parameters per row
  static void bind(sqlite3_stmt* stmt, int first_parameter, const Row& row);

  sqlite3* db_ = nullptr;
  std::string path_;
  sqlite3_stmt* insert_one_ = nullptr;
  sqlite3_stmt* insert_many_ = nullptr;  // kRowsPerInsert rows
  sqlite3_stmt* max_id_ = nullptr;
  sqlite3_stmt* find_string_ = nullptr;
  sqlite3_stmt* insert_string_ = nullptr;
  sqlite3_stmt* index_string_ = nullptr;
  sqlite3_stmt* string_used_ = nullptr;
  sqlite3_stmt* insert_block_ = nullptr;
  bool in_batch_ = false;
  std::int64_t next_id_ = 1;
  TextTable<First, kMaxFirsts, kMaxFirsts * 64> firsts_;  // process_uid -> its first stored event
  StringCache strings_;                                   // text -> strings.id, so that a repeated text costs no query
  std::int64_t string_slack_ = kStringSlack;
  struct StringUse {
    std::int64_t string_id, event_id;
  };
  std::vector<StringUse> used_strings_;  // last_id to write at the commit
  std::vector<Row> rows_ = std::vector<Row>(kRowsPerInsert);
  std::size_t pending_ = 0;         // rows_ not inserted yet
  RepeatBlock block_;               // the images and users of next_id_'s block stored so far
  std::int64_t block_next_id_ = 0;  // the id after the last row block_ saw

  std::unique_ptr<WalCheckpointer> checkpointer_;  // stops before db_ closes
  int checkpoint_pages_ = kCheckpointPages;
  std::uint64_t writer_checkpoints_ = 0;
  int wal_pages_ = 0;
  BodyBlockBuilder bodies_;  // the batch's bodies not in body_blocks yet
  BodyEncoder encoder_{kBodyBlockLevel};
  bool dictionary_in_batch_ = false;    // the open batch added the encoder's dictionary
  std::uint64_t since_dictionary_ = 0;  // events compressed since the last training
  std::string samples_;
  std::vector<std::size_t> sample_sizes_;
  DictionaryTrainer trainer_;  // last: its thread ends before the rest goes
};

// The SQL that migrates schema version-1 to `version` (tests build older stores with it).
const char* schema_migration(int version);

}  // namespace procsentry
