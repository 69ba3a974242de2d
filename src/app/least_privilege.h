// What the live monitor still needs once the sensor is attached and /proc is seeded, and the
// drop of everything else (platform/linux/privileges.h). The README lists the same.
#pragma once

#include <sys/capability.h>

#include <cstdio>
#include <vector>

#include "app/options.h"

namespace procsentry {

struct KeptCapability {
  cap_value_t cap;
  const char* why;
};

// Only what these options still use after start-up; nothing at all for a plain stream.
std::vector<KeptCapability> capabilities_needed(const AppOptions& options);

// Drops to capabilities_needed(options). Returns 0, or the exit status when the drop is
// incomplete and --strict-privileges asks to refuse then (one line on `diagnostics` either way).
int drop_to_least_privilege(const AppOptions& options, std::FILE* diagnostics);

}  // namespace procsentry
