// The JSON Lines writer before the direct-to-buffer one: the test oracle for byte identity.
#pragma once

#include <string>

#include "core/event.h"

namespace procsentry::reference {

// One event as the old writer printed it, newline included.
std::string json_line(const Event& event);

}  // namespace procsentry::reference
