// --hash sha256: the SHA-256 of each exec'd image, computed off the event path.
//
// The event thread opens the image (by its path, or through /proc/PID/exe when the path is
// gone and the process still runs it) and looks its identity up in a cache keyed by (device, inode,
// mtime, size). A hit puts the hash on the exec event at once. A miss hands the open file
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

namespace procsentry {

struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t size = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

struct FileIdentityHash {
  std::size_t operator()(const FileIdentity& f) const {
    return std::hash<std::uint64_t>()(f.inode * 0x9e3779b97f4a7c15ULL ^ f.device ^
                                      static_cast<std::uint64_t>(f.mtime_ns));
  }
};

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
  // Files hashed so far (tests and the summary).
  std::uint64_t files_hashed() const;
  // Event thread: images whose hash was known (hits) or handed to the worker (misses).
  std::uint64_t cache_hits() const { return cache_hits_; }
  std::uint64_t cache_misses() const { return cache_misses_; }

 private:
  struct Job {
    int fd;
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
  int open_image(const Event& e) const;

  std::string proc_root_;
  // Event thread only.
  std::unordered_map<FileIdentity, CacheEntry, FileIdentityHash> cache_;
  std::size_t pending_ = 0;
  std::uint64_t cache_hits_ = 0, cache_misses_ = 0;
  // Shared with the worker, under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::vector<Done> done_;
  std::uint64_t files_hashed_ = 0;
  bool stopping_ = false;
  std::thread worker_;  // last: starts after everything it uses exists
};

// SHA-256 of everything readable from fd, as 64 hex digits; empty and `error` set on failure.
std::string sha256_of_fd(int fd, std::string& error);

}  // namespace procsentry
