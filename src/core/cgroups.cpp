#include "core/cgroups.h"

#include <cstddef>

namespace procsentry {
namespace {

// A run of exactly 64 lowercase hex digits not adjacent to another hex digit.
std::string_view hex64_in(std::string_view component) {
  constexpr std::size_t kIdLength = 64;
  std::size_t run = 0;
  for (std::size_t i = 0; i <= component.size(); ++i) {
    char c = i < component.size() ? component[i] : '\0';
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (hex) {
      ++run;
      continue;
    }
    if (run == kIdLength) return component.substr(i - run, run);
    run = 0;
  }
  return {};
}

}  // namespace

std::string_view container_id_from_cgroup(std::string_view path) {
  while (!path.empty()) {
    std::size_t slash = path.rfind('/');
    std::string_view component = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
    if (!component.starts_with("libpod-conmon-")) {  // podman's monitor, not the container
      if (auto id = hex64_in(component); !id.empty()) return id;
    }
    constexpr std::string_view kMachine = "machine-";
    constexpr std::string_view kScope = ".scope";
    if (component.starts_with(kMachine) && component.ends_with(kScope) &&
        component.size() > kMachine.size() + kScope.size()) {
      return component.substr(kMachine.size(), component.size() - kMachine.size() - kScope.size());
    }
    if (slash == std::string_view::npos) break;
    path = path.substr(0, slash);
  }
  return {};
}

}  // namespace procsentry
