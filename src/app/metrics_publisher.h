// --metrics, the event thread's side: between polls (at most every 100 ms) it copies every
// counter it can read there into a snapshot and publishes it on the MetricsBoard, which is
// all the HTTP threads read. Nothing else is shared with them.
#pragma once

#include <chrono>

#include "app/outputs.h"
#include "app/pipeline.h"
#include "hashing/image_hasher.h"
#include "metrics/metrics_snapshot.h"
#include "rules/reloadable_rules.h"
#include "sources/linux_bpf/ring_buffer_source.h"

namespace procsentry {

// Where the counters live; hasher and rules are optional.
struct MetricsSources {
  const EventPipeline& pipeline;
  const RingBufferSource& source;
  const ProcessTable& table;
  const Outputs& outputs;
  const ImageHasher* hasher = nullptr;
  const ReloadableRules* rules = nullptr;
};

class MetricsPublisher {
 public:
  MetricsPublisher(MetricsSources sources, MetricsBoard& board);
  // For run_source's callbacks: publishes when the last publish is 100 ms old.
  void between_polls();
  // Publishes now; `attached` false once the loop has ended (the health check says so).
  void publish(bool attached);

 private:
  MetricsSources sources_;
  MetricsBoard& board_;
  MetricsSnapshot next_;  // filled, then swapped with the board's
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace procsentry
