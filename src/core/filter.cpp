#include "core/filter.h"

#ifdef _WIN32
#include <shlwapi.h>
#include <windows.h>
#else
#include <fnmatch.h>
#endif

#include <algorithm>

namespace procsentry {
namespace {
template <typename T, typename U>
bool allowed(const std::vector<T>& allowed_values, const U& value) {
  return allowed_values.empty() ||
         std::find(allowed_values.begin(), allowed_values.end(), value) != allowed_values.end();
}
bool glob_matches(const std::string& glob, const std::string& path) {
#ifdef _WIN32
  return PathMatchSpecA(path.c_str(), glob.c_str()) != FALSE;
#else
  return fnmatch(glob.c_str(), path.c_str(), 0) == 0;
#endif
}
}  // namespace

bool Filter::matches(const Event& event) const {
  if (event.kind == EventKind::lost) return true;
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
