#include "store/store_chunks.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>

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

StoreChunks store_chunks(const IdRange& ids, int schema, std::int64_t from) {
  StoreChunks chunks{chunk_bits(schema), "-1"};
  if (ids.last < ids.first) return chunks;
  chunks.list.clear();
  for (std::int64_t chunk = std::max(ids.first, from) >> chunks.bits; chunk <= ids.last >> chunks.bits; ++chunk) {
    if (!chunks.list.empty()) chunks.list += ',';
    chunks.list += fmt::format("{}", chunk);
  }
  return chunks;
}

std::string in_chunks(const StoreChunks& chunks, std::string_view row) {
  return fmt::format("({}.id >> {}) IN ({})", row, chunks.bits, chunks.list);
}

std::string key_condition(std::string_view column, std::string_view values, bool scan) {
  if (!scan) return fmt::format("{} {}", column, values);
  return fmt::format("{0} IS NOT NULL AND +{0} {1}", column, values);
}

}  // namespace procsentry
