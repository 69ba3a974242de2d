#include "app/summary.h"

#include <fmt/core.h>

#include <algorithm>
#include <string>

namespace procsentry {

void print_summary(std::FILE* out, const PipelineStats& stats, const SensorDrops& drops) {
  auto count = [&](EventKind kind) { return stats.by_kind[static_cast<std::size_t>(kind)]; };
  // Drops still pending in the kernel at stop never reached the stream as a lost record:
  // the kernel's own total is the truth.
  std::uint64_t lost = std::max(stats.lost_records, drops.total());
  // create is the Windows sensor's event: shown where it occurs.
  std::string creates = count(EventKind::create) != 0 ? fmt::format("create {}, ", count(EventKind::create)) : "";
  std::string by_rules =
      stats.excluded_by_rules != 0 ? fmt::format(", left out by rules {}", stats.excluded_by_rules) : "";
  fmt::print(out, "procsentry: {} events ({}exec {}, exec_failed {}, fork {}, exit {}), lost {}, decode errors {}{}\n",
             stats.events() - count(EventKind::lost), creates, count(EventKind::exec), count(EventKind::exec_failed),
             count(EventKind::fork), count(EventKind::exit), lost, stats.decode_errors, by_rules);
}

}  // namespace procsentry
