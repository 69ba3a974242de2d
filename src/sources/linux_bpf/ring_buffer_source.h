// The Linux sensor: owns the BPF skeleton and its ring buffer, hands raw records on.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/result.h"
#include "procsentry/wire/wire.h"
#include "sources/source.h"

struct procsentry_bpf;
struct ring_buffer;

namespace procsentry {

class RingBufferSource final : public Source {
 public:
  static Result<std::unique_ptr<RingBufferSource>> open(const SensorOptions& options);
  ~RingBufferSource() override;
  RingBufferSource(const RingBufferSource&) = delete;
  RingBufferSource& operator=(const RingBufferSource&) = delete;

  // An interrupted wait (a signal) returns 0.
  Result<int> poll(int timeout_ms, RecordHandler& handler) override;
  // The stop signal itself interrupts the wait (no SA_RESTART): only the flag is needed.
  void cancel() override { cancelled_.store(true); }
  bool done() const override { return cancelled_.load(); }
  // Drops counted in the kernel since load.
  SensorDrops drops() const override;
  bool reports_exec_failed() const { return exec_failed_attached_; }
  // The exec program without bpf_loop runs (an older kernel, or forced by the environment).
  bool bounded_loops() const { return bounded_loops_; }
  // Bytes written into the ring buffer and not yet read, and its size. libbpf 1.1 (Debian 12)
  // has no ring__avail_data_size (1.3): read from the ring's own consumer and producer pages,
  // mapped read-only here. nullopt if they could not be mapped.
  struct Fill {
    std::uint64_t used = 0;
    std::uint64_t size = 0;
  };
  std::optional<Fill> ring_fill() const;

 private:
  RingBufferSource() = default;
  static int on_sample(void* ctx, void* data, std::size_t size);
  // The kernel reports running totals of drops (it cannot take a delta atomically before
  // 5.12): turns one into the delta since the last, false when it brings nothing new.
  bool lost_to_delta(ps_lost& lost);
  void map_positions(int map_fd, std::uint64_t size);

  struct SkeletonDeleter {
    void operator()(procsentry_bpf* skel) const;
  };
  struct RingDeleter {
    void operator()(ring_buffer* ring) const;
  };
  std::unique_ptr<procsentry_bpf, SkeletonDeleter> skel_;
  std::unique_ptr<ring_buffer, RingDeleter> ring_;
  RecordHandler* handler_ = nullptr;    // set only for the duration of poll()
  std::atomic<bool> cancelled_{false};  // lock-free: set from a signal handler
  static_assert(std::atomic<bool>::is_always_lock_free);
  bool exec_failed_attached_ = false;
  bool bounded_loops_ = false;
  std::array<std::uint64_t, PS_LOST_CAUSE_MAX + 1> reported_lost_{};
  // The ring's position pages (consumer, producer), for ring_fill().
  void* consumer_page_ = nullptr;
  void* producer_page_ = nullptr;
  std::uint64_t ring_size_ = 0;
};

}  // namespace procsentry
