// Every counter /metrics and /healthz report, copied out of the event path at one moment. The
// event thread fills one between polls and hands it to a MetricsBoard; the HTTP thread reads
// only the board's copy, never the pipeline, the outputs or the rules themselves.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"

namespace procsentry {

struct OutputMetrics {
  std::string name;           // "syslog tcp://127.0.0.1:514", "stdout", ...
  std::uint64_t written = 0;  // handed to its writer (those it then failed are counted at stop)
  std::uint64_t dropped = 0;  // never handed to it: its backlog was full
  std::uint64_t failed = 0;   // handed to it, but not written (full disk, refused, Kafka delivery failed)
  std::uint64_t backlog = 0;  // events queued for it now
  bool dead = false;          // can never write again (its reader went away)
  bool reachable = true;      // false while its server is away (syslog over TCP)
};

struct RuleMetrics {
  std::string name;
  bool include = true;        // an include rule (else exclude)
  std::uint64_t matches = 0;  // include: events it tagged; exclude: events it left out
};

struct MetricsSnapshot {
  std::array<std::uint64_t, kEventKindSlots> events_by_kind{};  // index: EventKind
  std::array<std::uint64_t, 4> kernel_lost_by_cause{};          // index: ps_lost_cause
  std::uint64_t decode_errors = 0;
  std::uint64_t excluded_by_rules = 0;
  std::optional<std::uint64_t> redacted_events;  // events written with a secret masked (src/redact)
  std::vector<OutputMetrics> outputs;
  std::vector<RuleMetrics> rules;
  std::uint64_t processes = 0;                                      // in the process table
  std::optional<std::uint64_t> hash_cache_hits, hash_cache_misses;  // with --hash
  std::optional<std::uint64_t> ring_used_bytes, ring_size_bytes;    // the BPF ring buffer
  bool sensor_attached = false;
  double start_time_seconds = 0;  // since the epoch
};

// The one place the two threads meet: a mutex held only to swap or copy a snapshot.
class MetricsBoard {
 public:
  // Event thread: `next` becomes current; `next` gets the previous one back (its buffers are
  // reused, so a publish allocates nothing once the vectors have grown).
  void publish(MetricsSnapshot& next) {
    std::lock_guard lock(mutex_);
    std::swap(current_, next);
  }
  // HTTP thread: a copy of the last published snapshot.
  MetricsSnapshot read() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  MetricsSnapshot current_;
};

}  // namespace procsentry
