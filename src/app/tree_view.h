// procsentry tree: the process table drawn as a tree, as text (fits kTreeWidth columns,
// escaped like every other output) or as JSON Lines (one process per line, in tree order).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/process_table.h"
#include "core/result.h"
#include "core/user_names.h"

namespace procsentry {

constexpr std::size_t kTreeWidth = 100;

// Masks the secrets of one NUL-separated argv into `out`; true when it did (src/redact).
using ArgvRedaction = std::function<bool(std::string_view argv, std::string& out)>;

// Appends the tree below `root` (0: every process without a known parent) to `out`.
// An error when `root` is not a live process. Each argv shown goes through `redact` if given.
Result<std::size_t> render_tree(ProcessTable& table, UserNames& users, std::uint32_t root, bool json, std::string& out,
                                const ArgvRedaction& redact = {});

}  // namespace procsentry
