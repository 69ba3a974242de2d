#include "core/filter.h"

#include <algorithm>

namespace procsentry {
namespace {
template <typename T, typename U>
bool allowed(const std::vector<T>& allowed_values, const U& value) {
  return allowed_values.empty() ||
         std::find(allowed_values.begin(), allowed_values.end(), value) != allowed_values.end();
}
}  // namespace

bool Filter::matches(const Event& event) const {
  // Nor that the stream is alive and what it counted (--heartbeat).
  if (event.kind == EventKind::lost || event.kind == EventKind::heartbeat) return true;
  if (!allowed(options_.events, event.kind) || !allowed(options_.pids, event.task.pid) ||
      !allowed(options_.ppids, event.task.ppid) || !allowed(options_.uids, event.task.uid) ||
      !allowed(options_.comms, event.task.comm)) {
    return false;
  }
  if (options_.images.empty()) return true;
  const std::string image(image_of(event));  // fnmatch needs a terminated string
  return std::any_of(options_.images.begin(), options_.images.end(),
                     [&](const std::string& glob) { return glob_matches(glob, image); });
}

}  // namespace procsentry
