#include "sinks/run/fanout_sink.h"

#include <algorithm>
#include <utility>

namespace procsentry {

FanoutSink::FanoutSink(std::vector<Output> outputs, BacklogLimits limits, std::FILE* diagnostics) {
  for (auto& output : outputs) {
    auto same =
        std::find_if(formats_.begin(), formats_.end(), [&](const Format& f) { return f.formatter == output.format; });
    if (same == formats_.end()) {
      formats_.push_back(Format{output.format, std::make_shared<FormattedBatch>(), false});
      same = formats_.end() - 1;
    }
    same->keyed = same->keyed || output.writer->wants_keys();
    format_of_.push_back(static_cast<std::size_t>(same - formats_.begin()));
    threads_.push_back(std::make_unique<WriterThread>(std::move(output.writer), limits, diagnostics));
  }
}

void FanoutSink::write(const Event& event) {
  for (auto& f : formats_) f.batch->add(*f.formatter, event, f.keyed);
  if (++batched_ >= kMaxBatch) flush();
}

void FanoutSink::flush() {
  if (batched_ == 0) return;
  batched_ = 0;
  std::vector<std::shared_ptr<const FormattedBatch>> shared;
  std::vector<std::size_t> bytes;
  for (auto& f : formats_) {
    bytes.push_back(f.batch->approximate_bytes());
    shared.push_back(std::exchange(f.batch, std::make_shared<FormattedBatch>()));
  }
  for (std::size_t i = 0; i < threads_.size(); ++i) threads_[i]->push(shared[format_of_[i]], bytes[format_of_[i]]);
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
