#include "platform/linux/privileges.h"

#include <fmt/core.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

namespace procsentry {
namespace {

// "Threads:" of /proc/self/status; 0 when unreadable.
int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

}  // namespace

std::string capability_name(cap_value_t cap) {
  std::unique_ptr<char, decltype(&cap_free)> name(cap_to_name(cap), cap_free);
  return name ? std::string(name.get()) : fmt::format("capability {}", cap);
}

Result<Ok> drop_capabilities(const std::vector<cap_value_t>& keep) {
  if (int threads = thread_count(); threads != 1) {
    return Error{
        fmt::format("cannot drop capabilities: {} threads run already (capabilities are per thread)", threads)};
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Error{fmt::format("cannot set no_new_privs: {}", std::strerror(errno))};
  }
  // The bounding set first: dropping from it needs CAP_SETPCAP in the effective set.
  std::string stayed;
  const auto kept = [&](cap_value_t cap) { return std::find(keep.begin(), keep.end(), cap) != keep.end(); };
  for (cap_value_t cap = 0; cap < static_cast<cap_value_t>(cap_max_bits()); ++cap) {
    if (kept(cap) || cap_get_bound(cap) != 1) continue;
    if (cap_drop_bound(cap) != 0) stayed += (stayed.empty() ? "" : " ") + capability_name(cap);
  }
  // Ambient capabilities (since 4.3) would survive an exec; EINVAL: a kernel without them.
  if (cap_reset_ambient() != 0 && errno != EINVAL) {
    return Error{fmt::format("cannot clear the ambient capabilities: {}", std::strerror(errno))};
  }
  std::unique_ptr<std::remove_pointer_t<cap_t>, decltype(&cap_free)> caps(cap_init(), cap_free);
  if (!caps) return Error{"cannot drop capabilities: out of memory"};
  if (!keep.empty()) {
    for (cap_flag_t flag : {CAP_EFFECTIVE, CAP_PERMITTED}) {
      cap_set_flag(caps.get(), flag, static_cast<int>(keep.size()), keep.data(), CAP_SET);
    }
  }
  if (cap_set_proc(caps.get()) != 0) {
    return Error{fmt::format("cannot drop capabilities: {}", std::strerror(errno))};
  }
  if (!stayed.empty()) {
    return Error{
        fmt::format("could not drop {} from the bounding set (that needs cap_setpcap); every other set is "
                    "reduced and no_new_privs is set",
                    stayed)};
  }
  return Ok{};
}

}  // namespace procsentry
