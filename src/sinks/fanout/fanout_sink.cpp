#include "sinks/fanout/fanout_sink.h"

namespace procsentry {

FanoutSink::FanoutSink(std::vector<std::unique_ptr<Outlet>> outlets, TextFormatter* live, BacklogLimits limits,
                       std::FILE* diagnostics)
    : snapshotter_(live), batch_(std::make_shared<SnapshotBatch>()) {
  for (auto& outlet : outlets) threads_.push_back(std::make_unique<SinkThread>(std::move(outlet), limits, diagnostics));
}

void FanoutSink::write(const Event& event) {
  snapshotter_.take(event, batch_->emplace_back());
  if (batch_->size() >= kMaxBatch) flush();
}

void FanoutSink::flush() {
  if (batch_->empty()) return;
  std::shared_ptr<const SnapshotBatch> shared = std::move(batch_);
  const std::size_t bytes = approximate_bytes(*shared);
  for (auto& t : threads_) t->push(shared, bytes);
  batch_ = std::make_shared<SnapshotBatch>();
}

bool FanoutSink::failed() const {
  for (const auto& t : threads_) {
    if (!t->dead()) return false;
  }
  return true;
}

void FanoutSink::stop() {
  flush();
  for (auto& t : threads_) t->stop();
}

}  // namespace procsentry
