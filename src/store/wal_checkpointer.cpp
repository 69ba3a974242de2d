#include "store/wal_checkpointer.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace procsentry {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{fmt::format("cannot open the database {} to checkpoint it: {}", path, why)};
  }
  // As the writer's: the checkpoint fsyncs the WAL before copying it, and the database after.
  // Its own automatic checkpoint never runs: it commits nothing.
  char* message = nullptr;
  if (sqlite3_exec(db, "PRAGMA synchronous=NORMAL", nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message != nullptr ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    sqlite3_close(db);
    return Error{fmt::format("database {}: {}", path, why)};
  }
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db));
}

WalCheckpointer::WalCheckpointer(sqlite3* db) : db_(db), thread_([this] { run(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close(db_);
}

void WalCheckpointer::notify(int pages) {
  if (pages <= 0) return;
  {
    std::lock_guard lock(mutex_);
    due_ = true;
  }
  wake_.notify_one();
}

bool WalCheckpointer::busy() const {
  std::lock_guard lock(mutex_);
  return due_ || running_;
}

std::uint64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

void WalCheckpointer::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return due_ || stopping_; });
      if (stopping_) return;
      due_ = false;
      running_ = true;
    }
    // PASSIVE: copies what no reader still needs, without waiting; a busy WAL (another
    // checkpoint, a reader on an old snapshot) is tried again at the next notify.
    int wal_frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    std::lock_guard lock(mutex_);
    running_ = false;
    if (rc == SQLITE_OK && copied == wal_frames) ++completed_;
  }
}

}  // namespace procsentry
