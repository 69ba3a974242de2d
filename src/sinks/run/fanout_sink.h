// Several outputs at once (`procsentry record --print --syslog ... --output ...`), each
// writer on its own thread (WriterThread): the event thread formats each event once per
// format, gathers the source's batch, and hands the same immutable batch to every output of
// that format.
#pragma once

#include <cstdio>
#include <memory>
#include <vector>

#include "sinks/run/writer_thread.h"
#include "sinks/sink.h"

namespace procsentry {

class FanoutSink final : public Sink {
 public:
  FanoutSink(std::vector<Output> outputs, BacklogLimits limits, std::FILE* diagnostics);
  ~FanoutSink() override { stop(); }
  void write(const Event& event) override;
  void flush() override;
  // Failed only when every output is dead: a closed terminal must not stop the recording.
  bool failed() const override;
  // Flushes, lets every output deliver what it holds, ends the threads. Idempotent.
  void stop();
  const std::vector<std::unique_ptr<WriterThread>>& outputs() const { return threads_; }

  // A source's batch can be large (a full ring buffer): hand it over in pieces a backlog
  // can take.
  static constexpr std::size_t kMaxBatch = 4096;

 private:
  struct Format {
    std::shared_ptr<Formatter> formatter;
    std::shared_ptr<FormattedBatch> batch;  // being filled
    bool keyed = false;                     // an output of this format wants keys
  };
  std::vector<Format> formats_;  // one per distinct formatter
  std::vector<std::unique_ptr<WriterThread>> threads_;
  std::vector<std::size_t> format_of_;  // threads_[i] writes formats_[format_of_[i]]
  std::size_t batched_ = 0;             // events in the batches being filled
};

}  // namespace procsentry
