// Several outputs at once (`procsentry record --print --syslog ... --output ...`), each on its
// own thread (SinkThread): the event thread snapshots each event once, gathers the source's
// batch, and hands the same immutable batch to every output.
#pragma once

#include <cstdio>
#include <memory>
#include <vector>

#include "sinks/fanout/sink_thread.h"
#include "sinks/sink.h"

namespace procsentry {

class FanoutSink final : public Sink {
 public:
  // `live` renders the live view's text for an outlet that prints it (nullptr: none does).
  FanoutSink(std::vector<std::unique_ptr<Outlet>> outlets, TextFormatter* live, BacklogLimits limits,
             std::FILE* diagnostics);
  ~FanoutSink() override { stop(); }
  void write(const Event& event) override;
  void flush() override;
  // Failed only when every output is dead: a closed terminal must not stop the recording.
  bool failed() const override;
  // Flushes, lets every output deliver what it holds, ends the threads. Idempotent.
  void stop();
  const std::vector<std::unique_ptr<SinkThread>>& outputs() const { return threads_; }

  // A source's batch can be large (a full ring buffer): hand it over in pieces a backlog
  // can take.
  static constexpr std::size_t kMaxBatch = 4096;

 private:
  Snapshotter snapshotter_;
  std::shared_ptr<SnapshotBatch> batch_;
  std::vector<std::unique_ptr<SinkThread>> threads_;
};

}  // namespace procsentry
