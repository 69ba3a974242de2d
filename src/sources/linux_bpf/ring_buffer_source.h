// The Linux sensor: holds the attached BPF programs (loaded by sensor_loader) and reads
// their ring buffer, handing raw records on.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/result.h"
#include "procsentry/wire/wire.h"
#include "sources/linux_bpf/ring_reader.h"
#include "sources/linux_bpf/sensor_loader.h"
#include "sources/source.h"

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
  bool reports_exec_failed() const { return sensor_.exec_failed_attached; }
  // The exec program without bpf_loop runs (an older kernel, or forced by the environment).
  bool bounded_loops() const { return sensor_.bounded_loops; }
  // Bytes written into the ring buffer and not yet read, and its size.
  struct Fill {
    std::uint64_t used = 0;
    std::uint64_t size = 0;
  };
  std::optional<Fill> ring_fill() const;

 private:
  RingBufferSource(LoadedSensor sensor, RingReader ring);
  static void on_sample(void* ctx, std::span<const std::uint8_t> data);
  // The kernel reports running totals of drops (it cannot take a delta atomically before
  // 5.12): turns one into the delta since the last, false when it brings nothing new.
  bool lost_to_delta(ps_lost& lost);

  LoadedSensor sensor_;
  RingReader ring_;
  // The programs' .bss, mapped read-only: the kernel-side drop totals, read live.
  const void* counters_ = nullptr;
  std::size_t counters_mapped_ = 0;
  RecordHandler* handler_ = nullptr;    // set only for the duration of poll()
  std::atomic<bool> cancelled_{false};  // lock-free: set from a signal handler
  static_assert(std::atomic<bool>::is_always_lock_free);
  std::array<std::uint64_t, PS_LOST_CAUSE_MAX + 1> reported_lost_{};
};

}  // namespace procsentry
