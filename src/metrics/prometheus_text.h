// A snapshot as Prometheus text exposition (format 0.0.4) and as a health verdict: pure
// functions of the snapshot, so the HTTP thread needs nothing else.
#pragma once

#include <string>
#include <string_view>

#include "metrics/metrics_snapshot.h"

namespace procsentry {

std::string render_prometheus(const MetricsSnapshot& snapshot, std::string_view version);

struct HealthVerdict {
  bool ok = false;
  std::string reason;  // "ok", or why not ("output syslog tcp://...: disconnected")
};
HealthVerdict health_of(const MetricsSnapshot& snapshot);

}  // namespace procsentry
