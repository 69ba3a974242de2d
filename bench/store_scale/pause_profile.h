// Where the recording's pauses go while retention runs: SQLite's profile of each statement on
// the writer's connection (sqlite3_trace_v2, SQLITE_TRACE_PROFILE), summed per step of a
// retention transaction (its select, deletes, first events re-pointed, strings, FTS 'delete's,
// COMMIT) and of the writer's own batches, per batch of the bench's writer. Keeps the slowest
// batches with their steps, the thread's CPU time, its wait for a core and its disk reads, and a histogram of all
// batches. What no statement's profile holds (the WAL hook's checkpoint, which runs after
// COMMIT's profile, the formatting, waiting for a core) shows as "outside SQL".
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "store/event_store.h"

namespace procsentry::bench {

class PauseProfile {
 public:
  enum Step : std::size_t {
    kBegin,
    kSelect,      // the chunk's events
    kDelete,      // DELETE FROM event_rows, one per event
    kOldest,      // a deleted first event's successor (min(id) by first_id)
    kRepoint,     // first_id and process_uid moved to the successor
    kStrings,     // the unused strings' select
    kFtsDelete,   // their trigrams' 'delete'
    kStringDrop,  // DELETE FROM strings
    kRetentionCommit,
    kWriterCommit,
    kWriterRows,  // the writer's inserts, string lookups, last_id updates
    kOther,
    kSteps
  };

  explicit PauseProfile(EventStore& store);
  ~PauseProfile();
  PauseProfile(const PauseProfile&) = delete;
  PauseProfile& operator=(const PauseProfile&) = delete;

  void start_batch();
  void end_batch(double wall_ms);
  // Markdown: the slowest batches, the steps' totals, the histogram.
  std::string report() const;

 private:
  struct Batch {
    double wall_ms = 0, cpu_ms = 0, run_queue_ms = 0, read_mib = 0;  // run queue: waiting for a core
    std::array<double, kSteps> ms{};
    std::array<int, kSteps> runs{};
    double longest_ms = 0;  // one statement's
    Step longest = kOther;
    std::uint64_t checkpoints = 0;         // the WalCheckpointer's, completed during the batch
    std::uint64_t writer_checkpoints = 0;  // run in the writer's commits
    int wal_pages = 0;                     // the WAL's length after the batch (the longest, in total_)
  };
  static int on_trace(unsigned type, void* self, void* stmt, void* ns);
  void statement(sqlite3_stmt* stmt, double ms);

  EventStore* store_;
  bool in_retention_ = false;  // since a retention select, until its COMMIT
  Batch current_;
  double cpu_start_ms_ = 0, run_queue_start_ms_ = 0;
  std::int64_t read_start_ = 0;
  std::uint64_t checkpoints_start_ = 0, writer_checkpoints_start_ = 0;
  std::vector<Batch> slowest_;  // by wall time, at most kSlowest
  Batch total_;
  std::array<std::uint64_t, 8> histogram_{};
  std::uint64_t batches_ = 0;
};

}  // namespace procsentry::bench
