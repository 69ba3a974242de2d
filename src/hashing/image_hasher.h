// --hash sha256: the SHA-256 of each exec'd (Windows: created) image, computed off the event path.
//
// The event thread opens the image (by its path, or on Linux through /proc/PID/exe when the
// path is gone and the process still runs it; on Windows by the NT path the driver reported)
// and looks its identity up in a cache keyed by (device, inode, mtime, size): image_file.h, per
// platform. A hit puts the hash on the exec event at once. A miss hands the open file
// to one worker thread and marks the event "pending"; the result reaches the stream as a
// `hash` event naming the same process_uid. The event thread never waits for the worker.
//
// Shared between the two threads: only the job queue and the finished list, each under
// `mutex_` (tests/unit/image_hasher_test.cpp runs it under ThreadSanitizer).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/exec_hasher.h"
#include "hashing/image_file.h"

namespace procsentry {

class ImageHasher final : public ExecHasher {
 public:
  static constexpr std::size_t kMaxPending = 256;   // files waiting for the worker
  static constexpr std::size_t kMaxCached = 16384;  // distinct files remembered

  explicit ImageHasher(std::string proc_root = "/proc");
  ~ImageHasher() override;
  ImageHasher(const ImageHasher&) = delete;
  ImageHasher& operator=(const ImageHasher&) = delete;

  // Event thread: sets exec_event.sha256, or sha256_missing ("pending" or why not).
  void describe(Event& exec_event) override;
  // Event thread: the hashes finished since the last call.
  std::vector<FinishedHash> take_finished() override;
  // Event thread, at the end: waits until every pending file is hashed or `timeout` passes.
  std::size_t wait_finished(std::chrono::milliseconds timeout) override;
  // Files hashed so far (tests and the summary).
  std::uint64_t files_hashed() const;
  // Event thread: images whose hash was known (hits) or handed to the worker (misses).
  std::uint64_t cache_hits() const { return cache_hits_; }
  std::uint64_t cache_misses() const { return cache_misses_; }

 private:
  struct Job {
    ImageFile image;
    FileIdentity file;
  };
  struct Done {
    FileIdentity file;
    std::string sha256;
    std::string error;
  };
  struct Waiter {
    std::uint32_t pid;
    ProcessUid process_uid;
    std::string image;
  };
  struct CacheEntry {
    bool done = false;
    std::string sha256;  // when done
    std::string error;   // when done and failed
    std::vector<Waiter> waiters;
  };

  void work();

  // Event thread only.
  ImageOpener opener_;
  std::unordered_map<FileIdentity, CacheEntry, FileIdentityHash> cache_;
  std::size_t pending_ = 0;
  std::uint64_t cache_hits_ = 0, cache_misses_ = 0;
  // Shared with the worker, under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;      // a job came, or the end
  std::condition_variable finished_;  // a job is done
  std::deque<Job> jobs_;
  std::vector<Done> done_;
  std::uint64_t files_hashed_ = 0;
  bool stopping_ = false;
  std::thread worker_;  // last: starts after everything it uses exists
};

}  // namespace procsentry
