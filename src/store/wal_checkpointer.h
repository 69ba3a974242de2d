// Checkpoints the store's WAL on a thread and a connection of its own, so that the recorder's
// commits never copy the WAL into the database nor wait for its fsync (SQLite's automatic
// checkpoint runs inside the COMMIT that crosses its threshold: the longest pauses of
// recording while retention dirtied many pages). The writer's connection calls notify() from
// its WAL hook after each commit; a PASSIVE checkpoint takes no lock the writer needs, and
// the writer restarts the WAL from its start once a checkpoint has copied all of it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"

struct sqlite3;

namespace procsentry {

class WalCheckpointer {
 public:
  // Opens its own connection to `path` (already a WAL database) and starts its thread.
  static Result<std::unique_ptr<WalCheckpointer>> start(const std::string& path);
  // Stops the thread (after the checkpoint in progress) and closes its connection.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // The WAL holds `pages` frames after a commit: wakes the thread to checkpoint them.
  void notify(int pages);
  // Checkpoints that ran to the end of the WAL as it was when they started.
  std::uint64_t checkpoints() const;
  // A checkpoint is due or running: a transaction that can wait (retention's) should, so that
  // the checkpoint copies all of the WAL and the next transaction starts it over.
  bool busy() const;

 private:
  explicit WalCheckpointer(sqlite3* db);
  void run();

  sqlite3* db_;
  mutable std::mutex mutex_;
  // A plain condition variable and flag, not a stop_token: removing a stop callback that
  // request_stop is running waits on libstdc++'s semaphore, which under mingw-w64 (GCC 12, no
  // futex) now and then never woke: `record` hung at its end under Wine.
  std::condition_variable wake_;
  bool due_ = false;             // guarded by mutex_
  bool running_ = false;         // guarded by mutex_
  bool stopping_ = false;        // guarded by mutex_
  std::uint64_t completed_ = 0;  // guarded by mutex_
  std::thread thread_;           // last: starts once everything above exists
};

}  // namespace procsentry
