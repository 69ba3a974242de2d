#include "store/read_only_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/store_functions.h"

namespace procsentry {

void CloseStore::operator()(sqlite3* db) const { sqlite3_close(db); }

Result<ReadOnlyStore> open_store_read_only(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  ReadOnlyStore db(raw);
  if (rc != SQLITE_OK) {
    return Error{fmt::format("cannot open the database {}: {} (record first: procsentry record --db {})", path,
                             raw != nullptr ? sqlite3_errmsg(raw) : "out of memory", path)};
  }
  register_store_functions(raw);
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_exec(raw, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
  return db;
}

}  // namespace procsentry
