#include "app/service_status.h"

#include <fmt/core.h>

#include <algorithm>

namespace procsentry {
namespace {
// Often enough for `systemctl status`, rarely enough to cost nothing.
constexpr auto kStatusEvery = std::chrono::seconds(5);
}  // namespace

ServiceStatus::ServiceStatus(const EventPipeline& pipeline, const Source& source)
    : pipeline_(pipeline), source_(source) {}

std::string ServiceStatus::line(std::chrono::steady_clock::time_point now) {
  const PipelineStats& stats = pipeline_.stats();
  const std::uint64_t events = stats.events() - stats.by_kind[static_cast<std::size_t>(EventKind::lost)];
  const std::chrono::duration<double> took = now - last_status_;
  const double rate = took.count() > 0 ? static_cast<double>(events - events_at_last_status_) / took.count() : 0;
  events_at_last_status_ = events;
  last_status_ = now;
  // As the closing summary counts them: the kernel's own total is the truth.
  const std::uint64_t lost = std::max(stats.lost_records, source_.drops().total());
  return fmt::format("watching: {:.0f} events/s, {} events, lost {}, decode errors {}", rate, events, lost,
                     stats.decode_errors);
}

void ServiceStatus::ready() {
  if (!notifier_.active()) return;
  const auto now = std::chrono::steady_clock::now();
  last_status_ = last_watchdog_ = now;
  notifier_.ready(line(now));
  if (notifier_.watchdog_interval().count() > 0) notifier_.watchdog();
}

void ServiceStatus::between_polls() {
  if (!notifier_.active()) return;
  const auto now = std::chrono::steady_clock::now();
  const auto watchdog_every = notifier_.watchdog_interval() / 2;
  if (watchdog_every.count() > 0 && now - last_watchdog_ >= watchdog_every) {
    notifier_.watchdog();
    last_watchdog_ = now;
  }
  if (now - last_status_ >= kStatusEvery) notifier_.status(line(now));
}

}  // namespace procsentry
