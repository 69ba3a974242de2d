#include "store/repeat_marks.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>

#include "store/store_chunks.h"

namespace procsentry {

void RepeatBlock::start(std::int64_t id) {
  const std::int64_t block = id >> kRepeatBlockBits;
  if (block == block_) return;
  clear();
  block_ = block;
}

void RepeatBlock::clear() {
  block_ = -1;
  images_.clear();
  users_.clear();
}

bool RepeatBlock::repeats(std::vector<std::int64_t>& seen, std::int64_t value) {
  if (value == 0) return false;
  if (std::find(seen.begin(), seen.end(), value) != seen.end()) return true;
  seen.push_back(value);
  return false;
}

void BlockRemarks::deleted(std::int64_t id, std::int64_t marked_image, std::int64_t marked_user) {
  const std::int64_t block = id >> kRepeatBlockBits;
  if (marked_image != 0) lost_.push_back({block, false, marked_image});
  if (marked_user != 0) lost_.push_back({block, true, marked_user});
}

Result<Ok> BlockRemarks::apply(sqlite3* db) {
  std::sort(lost_.begin(), lost_.end());
  lost_.erase(std::unique(lost_.begin(), lost_.end()), lost_.end());
  sqlite3_stmt* read = nullptr;
  sqlite3_stmt* mark_image = nullptr;
  sqlite3_stmt* mark_user = nullptr;
  auto finish = [&](bool ok) -> Result<Ok> {
    Error error{fmt::format("retention (repeat marks): {}", sqlite3_errmsg(db))};
    for (sqlite3_stmt* stmt : {read, mark_image, mark_user}) sqlite3_finalize(stmt);
    lost_.clear();
    if (!ok) return error;
    return Ok{};
  };
  if (lost_.empty()) return finish(true);
  if (sqlite3_prepare_v2(db,
                         "SELECT id, image_id, image_repeat, user_id, user_repeat FROM event_rows "
                         "WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
                         -1, &read, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE event_rows SET image_repeat = NULL WHERE id = ?1", -1, &mark_image, nullptr) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE event_rows SET user_repeat = NULL WHERE id = ?1", -1, &mark_user, nullptr) !=
          SQLITE_OK) {
    return finish(false);
  }
  std::vector<std::pair<sqlite3_stmt*, std::int64_t>> marks;  // statement, row
  for (auto it = lost_.begin(); it != lost_.end();) {
    const std::int64_t block = it->block;
    const auto end = std::find_if(it, lost_.end(), [&](const Lost& l) { return l.block != block; });
    std::vector<Lost> wanted(it, end);  // few: the block's deleted marks
    sqlite3_bind_int64(read, 1, block << kRepeatBlockBits);
    sqlite3_bind_int64(read, 2, ((block + 1) << kRepeatBlockBits) - 1);
    int rc = SQLITE_ROW;
    while (!wanted.empty() && (rc = sqlite3_step(read)) == SQLITE_ROW) {
      const std::int64_t id = sqlite3_column_int64(read, 0);
      for (const bool user : {false, true}) {
        const int column = user ? 3 : 1;
        if (sqlite3_column_type(read, column) == SQLITE_NULL) continue;
        const auto found =
            std::find(wanted.begin(), wanted.end(), Lost{block, user, sqlite3_column_int64(read, column)});
        if (found == wanted.end()) continue;
        wanted.erase(found);  // the earliest remaining row with it: marked from now on
        if (sqlite3_column_type(read, column + 1) != SQLITE_NULL) marks.emplace_back(user ? mark_user : mark_image, id);
      }
    }
    sqlite3_reset(read);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return finish(false);
    it = end;
  }
  for (const auto& [stmt, id] : marks) {
    sqlite3_bind_int64(stmt, 1, id);
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return finish(false);
  }
  return finish(true);
}

MarkedRowsSql marked_rows_sql(std::string_view key, std::string_view values, const StoreChunks& chunks,
                              std::string_view row, bool scan) {
  // SQLite uses a partial index only for a query that implies its WHERE: `_repeat IS NULL`,
  // named. Blocks lie within a chunk: the earlier-mark probe names the driver's chunk. A block's
  // rows by rowid: `+` keeps SQLite from indexing the table's key column for the join instead
  // (an automatic index of every row, which it chose for 1,221 chunks of a 10 M store).
  const std::int64_t last_in_block = (std::int64_t{1} << kRepeatBlockBits) - 1;
  const std::string value_test = key_condition(fmt::format("{}_mark.{}_id", row, key), values, scan);
  return {fmt::format("event_rows {0}_mark CROSS JOIN event_rows {0}", row),
          fmt::format("{2} AND {4} AND {0}_mark.{3}_repeat IS NULL AND "
                      "NOT EXISTS (SELECT 1 FROM event_rows {0}_before WHERE ({0}_before.id >> {1}) = "
                      "({0}_mark.id >> {1}) AND {0}_before.{3}_id = {0}_mark.{3}_id AND {0}_before.{3}_repeat IS NULL "
                      "AND {0}_before.id >= ({0}_mark.id & {5}) AND {0}_before.id < {0}_mark.id) AND "
                      "{0}.id BETWEEN {0}_mark.id AND ({0}_mark.id | {6}) AND +{0}.{3}_id = {0}_mark.{3}_id",
                      row, chunks.bits, in_chunks(chunks, std::string(row) + "_mark"), key, value_test, ~last_in_block,
                      last_in_block)};
}

}  // namespace procsentry
