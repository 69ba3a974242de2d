// One integer from a statement on a test's own connection to a store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace procsentry::test {

// The first column of the first row of `sql`, or -1 when it fails or returns no row.
inline std::int64_t sql_int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return value;
}

}  // namespace procsentry::test
