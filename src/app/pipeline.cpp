#include "app/pipeline.h"

#include <fmt/core.h>

#include <cstring>

namespace procsentry {
namespace {
// Enough to show what is wrong without flooding the terminal if a sensor goes bad.
constexpr std::uint64_t kDecodeErrorsShown = 5;
}  // namespace

std::uint64_t PipelineStats::events() const {
  std::uint64_t total = 0;
  for (std::uint64_t n : by_kind) total += n;
  return total;
}

EventPipeline::EventPipeline(Decoder& decoder, ProcessTable& table, UserNames& users, const Filter& filter, Sink& sink,
                             std::FILE* diagnostics)
    : decoder_(decoder), table_(table), users_(users), filter_(filter), sink_(sink), diagnostics_(diagnostics) {}

void EventPipeline::on_record(std::span<const std::uint8_t> record) {
  if (raw_ != nullptr) {
    raw_->buffer().append(reinterpret_cast<const char*>(record.data()), record.size());
    raw_->end_event();
  }
  auto decoded = decoder_.decode(record);
  if (!decoded) {
    if (++stats_.decode_errors <= kDecodeErrorsShown) {
      fmt::print(diagnostics_, "procsentry: skipped a malformed record: {}{}\n", decoded.error().message,
                 stats_.decode_errors == kDecodeErrorsShown ? " (further ones are only counted)" : "");
    }
    return;
  }
  Event& event = **decoded;
  if (!table_.enrich(event)) return;
  event.user = users_.name(event.task.uid);
  stats_.by_kind[static_cast<std::size_t>(event.kind)]++;
  if (event.kind == EventKind::lost) stats_.lost_records += event.lost_count;
  if (filter_.matches(event)) sink_.write(event);
  table_.apply(event);
}

void EventPipeline::on_batch_end() {
  sink_.flush();
  if (raw_ != nullptr) {
    raw_->flush();
    if (raw_->failed()) {
      fmt::print(diagnostics_, "procsentry: stopped saving raw records: {} (the live stream continues)\n",
                 std::strerror(raw_->error()));
      raw_ = nullptr;
    }
  }
}

}  // namespace procsentry
