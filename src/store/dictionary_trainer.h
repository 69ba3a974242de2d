// Trains the store's body dictionary (body_codec.h) on a thread of its own: zstd's training
// takes 70-100 ms of CPU for a MiB of samples, and on the store's thread that was a pause of
// recording every kRetrainEvents events (bench/store_scale: one of the slowest batches while
// retention ran). The thread owns its samples; only the finished dictionary is handed over,
// under a mutex, and the store's thread never waits for it.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"

namespace procsentry {

class DictionaryTrainer {
 public:
  DictionaryTrainer() = default;
  ~DictionaryTrainer();  // waits for a training in progress
  DictionaryTrainer(const DictionaryTrainer&) = delete;
  DictionaryTrainer& operator=(const DictionaryTrainer&) = delete;

  // Whether a training was started and its dictionary not taken yet.
  bool busy() const { return busy_; }
  // Trains a dictionary of at most `capacity` bytes on `samples` (each one's size in `sizes`).
  // Only when not busy().
  void start(std::string samples, std::vector<std::size_t> sizes, std::size_t capacity);
  // The dictionary once trained (an error when zstd found too little to learn from), once;
  // nothing while it is being trained or when none was started. Never waits.
  std::optional<Result<std::string>> take();

 private:
  bool busy_ = false;  // the store's thread's own
  std::mutex mutex_;
  std::optional<Result<std::string>> finished_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace procsentry
