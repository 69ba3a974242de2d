// The writer's cache of `strings` rows by text (EventStore::string_id).
#pragma once

#include <cstdint>

#include "store/text_table.h"

namespace procsentry {

struct CachedString {
  std::int64_t id = 0;       // strings.id
  std::int64_t last_id = 0;  // strings.last_id as the open batch leaves it (EventStore::string_id)
};
using StringCache = TextTable<CachedString, std::size_t{1} << 16, std::size_t{4} << 20>;

}  // namespace procsentry
