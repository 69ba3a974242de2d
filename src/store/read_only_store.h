// A read-only connection to an event store, as every reader (query, report, verify) opens it:
// the store's SQL functions registered, a busy timeout (the recorder may be committing), and
// no statement able to write.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

struct sqlite3;

namespace procsentry {

struct CloseStore {
  void operator()(sqlite3* db) const;
};
using ReadOnlyStore = std::unique_ptr<sqlite3, CloseStore>;

// One line of error, saying what to do, when the file cannot be opened.
Result<ReadOnlyStore> open_store_read_only(const std::string& path);

}  // namespace procsentry
