// Least privilege after start-up: once the sensor is attached and /proc seeded, the monitor
// keeps only the capabilities its remaining work needs, in every set, and sets no_new_privs so
// that nothing it might exec could get any back.
#pragma once

#include <sys/capability.h>

#include <string>
#include <vector>

#include "core/result.h"

namespace procsentry {

// The name capsh(1) and systemd use, e.g. "cap_sys_ptrace".
std::string capability_name(cap_value_t cap);

// Keeps `keep` in the effective and permitted sets, clears the inheritable and ambient sets,
// drops every other capability from the bounding set and sets no_new_privs. Capabilities are
// per thread: with more than one thread running nothing is changed and an Error says so.
// Dropping from the bounding set needs CAP_SETPCAP: without it the other sets and
// no_new_privs still change, and the Error names what stayed in the bounding set.
Result<Ok> drop_capabilities(const std::vector<cap_value_t>& keep);

}  // namespace procsentry
