#include "app/metrics_publisher.h"

#include "core/clock.h"

namespace procsentry {
namespace {
// Fresh enough for any scrape interval, rare enough to cost the event thread nothing.
constexpr auto kPublishEvery = std::chrono::milliseconds(100);
}  // namespace

MetricsPublisher::MetricsPublisher(MetricsSources sources, MetricsBoard& board) : sources_(sources), board_(board) {
  next_.start_time_seconds = static_cast<double>(ClockMapping::now_epoch_ns()) / 1e9;
}

void MetricsPublisher::between_polls() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < kPublishEvery) return;
  last_ = now;
  publish(true);
}

void MetricsPublisher::publish(bool attached) {
  MetricsSnapshot& s = next_;
  const PipelineStats& stats = sources_.pipeline.stats();
  s.events_by_kind = stats.by_kind;
  s.decode_errors = stats.decode_errors;
  s.excluded_by_rules = stats.excluded_by_rules;
  s.redacted_events = stats.redacted;
  s.kernel_lost_by_cause = sources_.source.drops().by_cause;
  sources_.outputs.report(s.outputs);
  s.rules.clear();
  if (sources_.rules != nullptr) {
    const RuleSet& set = sources_.rules->current();
    for (std::size_t i = 0; i < set.rules().include.size(); ++i) {
      s.rules.push_back(RuleMetrics{set.rules().include[i].name, true, set.include_matches(i)});
    }
    for (std::size_t i = 0; i < set.rules().exclude.size(); ++i) {
      s.rules.push_back(RuleMetrics{set.rules().exclude[i].name, false, set.exclude_matches(i)});
    }
  }
  s.processes = sources_.table.size();
  if (sources_.hasher != nullptr) {
    s.hash_cache_hits = sources_.hasher->cache_hits();
    s.hash_cache_misses = sources_.hasher->cache_misses();
  }
  if (auto fill = sources_.source.ring_fill()) {
    s.ring_used_bytes = fill->used;
    s.ring_size_bytes = fill->size;
  }
  s.sensor_attached = attached;
  const double start = s.start_time_seconds;
  board_.publish(s);
  next_.start_time_seconds = start;  // the swapped-in snapshot is the previous one: same start
}

}  // namespace procsentry
