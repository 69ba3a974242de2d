// Durations and sizes as the command line gives them (--keep 7d, --max-size 1G, --rotate 100M).
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace procsentry {

// "7d", "12h", "30m", "45s" as ns.
Result<std::int64_t> parse_duration(const std::string& text);
// "500K", "100M", "1G" (powers of 1024) or plain bytes.
Result<std::int64_t> parse_size(const std::string& text);

}  // namespace procsentry
