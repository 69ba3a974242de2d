// Schema 5's repeat marks (store_chunks.h, kRepeatBlockBits): the image and user indexes hold,
// of each block of ids, the first row with each value; the block's later rows with it are marked
// (image_repeat / user_repeat = 1). What keeps that true: the writer's record of the current
// block (RepeatBlock), retention marking a block's next row when it deletes a marked one
// (BlockRemarks). A lookup drives by the marked rows and reads the block from each
// (marked_rows_sql). The earliest row of a value in a block is always marked; a later one may be
// too (rows migrated from schema 4, a writer restarted mid-block): harmless, lookups stay exact.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/store_chunks.h"

struct sqlite3;

namespace procsentry {

// The image and user ids the writer stored in the current block: flat and small (~72 images,
// ~11 users a block), cleared (capacity kept: no allocation per event) when the block changes.
class RepeatBlock {
 public:
  // Starts the row `id`: a new block forgets the last one's values.
  void start(std::int64_t id);
  // Whether the block already has a row with this image (user) id; remembers it. 0 (none): false.
  bool image_repeats(std::int64_t image_id) { return repeats(images_, image_id); }
  bool user_repeats(std::int64_t user_id) { return repeats(users_, user_id); }
  // Forgets everything: rows it saw may be gone (a rollback, retention).
  void clear();

 private:
  static bool repeats(std::vector<std::int64_t>& seen, std::int64_t value);
  std::int64_t block_ = -1;
  std::vector<std::int64_t> images_, users_;
};

// Retention: the marked rows a transaction deleted, and then, in each of their blocks, the
// earliest remaining row with the same value marked in their place (a lookup would miss it and
// the block's later rows). A block's rows are one rowid range of 2^kRepeatBlockBits: one read each.
class BlockRemarks {
 public:
  // A row deleted, with its image and user ids where it was their marked row (0: not marked).
  void deleted(std::int64_t id, std::int64_t marked_image, std::int64_t marked_user);
  // Marks the successors, in the open transaction.
  Result<Ok> apply(sqlite3* db);

 private:
  struct Lost {
    std::int64_t block;
    bool user;
    std::int64_t value;
    auto operator<=>(const Lost&) const = default;
  };
  std::vector<Lost> lost_;
};

// The rows of event_rows `row` whose `key` ("image" or "user": key_id) passes `values` ("= ?1",
// "IN (...)"), in the chunks `chunks` (an SQL list), through the index of marked rows: per block,
// its earliest marked row drives (one more index probe skips later ones), then the block's rows
// from it. The FROM (`row` last) and the WHERE; conditions on `row` are added by the caller.
// `scan`: the chunks' entries read in turn and tested against `values`, not probed for each value
// in each chunk (many values: see event_query.cpp, kEntriesPerProbe).
struct MarkedRowsSql {
  std::string from, where;
};
MarkedRowsSql marked_rows_sql(std::string_view key, std::string_view values, const StoreChunks& chunks,
                              std::string_view row, bool scan = false);

}  // namespace procsentry
