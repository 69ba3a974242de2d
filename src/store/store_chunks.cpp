#include "store/store_chunks.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace procsentry {

IdRange store_id_range(sqlite3* db) {
  IdRange range;
  sqlite3_stmt* stmt = nullptr;
  // Two subqueries: SQLite reads min() or max() from the end of the table only when it is the
  // statement's one aggregate (together, they scan every event).
  if (sqlite3_prepare_v2(db, "SELECT (SELECT min(id) FROM event_rows), (SELECT max(id) FROM event_rows)", -1, &stmt,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
    range = {sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1)};
  }
  sqlite3_finalize(stmt);
  return range;
}

std::string store_chunks(const IdRange& ids) {
  if (ids.last < ids.first) return "-1";
  std::string list;
  for (std::int64_t chunk = ids.first >> kChunkBits; chunk <= ids.last >> kChunkBits; ++chunk) {
    if (!list.empty()) list += ',';
    list += fmt::format("{}", chunk);
  }
  return list;
}

}  // namespace procsentry
