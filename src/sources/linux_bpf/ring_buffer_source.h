// The Linux sensor: owns the BPF skeleton and its ring buffer, hands raw records on.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "core/result.h"
#include "procsentry/wire/wire.h"
#include "sources/record_handler.h"

struct procsentry_bpf;
struct ring_buffer;

namespace procsentry {

struct SensorOptions {
  std::uint32_t argv_cap = 32768;  // bytes of argv captured per exec (rounded up to a power of two)
  // BPF ring buffer size (power of two). The kernel maps it twice into our address space
  // (for records that wrap), all resident: 4 MiB costs 8 MiB of RSS; records are sized to their data.
  std::uint32_t ring_bytes = 4u << 20;
  bool exec_failed = true;  // attach the syscall-exit hook that reports failed execs
  bool verbose = false;     // echo libbpf's messages
};

struct SensorDrops {
  std::array<std::uint64_t, 4> by_cause{};  // index: ps_lost_cause
  std::uint64_t total() const { return by_cause[1] + by_cause[2] + by_cause[3]; }
};

class RingBufferSource {
 public:
  static Result<std::unique_ptr<RingBufferSource>> open(const SensorOptions& options);
  ~RingBufferSource();
  RingBufferSource(const RingBufferSource&) = delete;
  RingBufferSource& operator=(const RingBufferSource&) = delete;

  // Waits up to timeout_ms, then delivers every record available. Returns the number of
  // records delivered; an interrupted wait (a signal) returns 0.
  Result<int> poll(int timeout_ms, RecordHandler& handler);

  // Drops counted in the kernel since load (each was also reported as a lost record).
  SensorDrops drops() const;
  bool reports_exec_failed() const { return exec_failed_attached_; }
  // The exec program without bpf_loop runs (an older kernel, or forced by the environment).
  bool bounded_loops() const { return bounded_loops_; }

 private:
  RingBufferSource() = default;
  static int on_sample(void* ctx, void* data, std::size_t size);
  // The kernel reports running totals of drops (it cannot take a delta atomically before
  // 5.12): turns one into the delta since the last, false when it brings nothing new.
  bool lost_to_delta(ps_lost& lost);

  struct SkeletonDeleter {
    void operator()(procsentry_bpf* skel) const;
  };
  struct RingDeleter {
    void operator()(ring_buffer* ring) const;
  };
  std::unique_ptr<procsentry_bpf, SkeletonDeleter> skel_;
  std::unique_ptr<ring_buffer, RingDeleter> ring_;
  RecordHandler* handler_ = nullptr;  // set only for the duration of poll()
  bool exec_failed_attached_ = false;
  bool bounded_loops_ = false;
  std::array<std::uint64_t, PS_LOST_CAUSE_MAX + 1> reported_lost_{};
};

}  // namespace procsentry
