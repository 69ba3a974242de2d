// What the pipeline needs from --hash, so the core does not depend on a crypto library
// (src/hashing implements it, on Linux and in the Windows client).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/event.h"

namespace procsentry {

// What a `hash` event reports: one per exec (Linux) or create (Windows) event that was told
// "pending".
struct FinishedHash {
  std::uint32_t pid = 0;
  ProcessUid process_uid;
  std::string image;
  std::string sha256;  // 64 hex digits, empty when `missing` says why
  std::string missing;
};

class ExecHasher {
 public:
  virtual ~ExecHasher() = default;
  // Event thread: sets exec_event.sha256, or sha256_missing ("pending" or why not). Never waits.
  // exec_event: an exec, or a Windows create.
  virtual void describe(Event& exec_event) = 0;
  // Event thread: hashes finished since the last call.
  virtual std::vector<FinishedHash> take_finished() = 0;
  // Event thread, once the stream has ended: waits at most `timeout` for the files still being
  // hashed (take_finished then has them). Returns how many are still not done.
  virtual std::size_t wait_finished(std::chrono::milliseconds timeout) = 0;
};

}  // namespace procsentry
