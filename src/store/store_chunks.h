// Schema 3's time chunks: each index whose key is not a time (process_uid, pid, parent_uid,
// image_id, argv_id, user_id) leads with the event's chunk, id >> chunk_bits(schema), so that a
// batch's entries go to one small, cached subtree and retention deletes whole old ones. A lookup
// by key names the chunks: `(e.id >> 13) IN (<store_chunks>) AND e.image_id = ?`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;

namespace procsentry {

// 8,192 events a chunk since schema 7 (65,536 in schemas 3-6): 1,221 chunks in a 10 M-event
// store, a probe each for a lookup by key. A commit's entries land at random in the newest
// chunk's part of each index: the smaller that part, the fewer of its pages a commit dirties and
// misses in the CPU's caches (the store thread's inserts x1.08-1.10, README "History at
// scale"). Written into the CREATE INDEX statements: changing it takes a migration.
constexpr int kChunkBits = 13;
constexpr int chunk_bits(int schema) { return schema >= 7 ? kChunkBits : 16; }

// Schema 5's repeat blocks: the image and user indexes hold, of each block of 256 ids (id >>
// kRepeatBlockBits), only the first row with each value (image_repeat / user_repeat NULL); a
// lookup expands each such row to the block's others (repeat_marks.h). A block of 256 events
// names ~72 images and ~11 users: 0.28 and 0.04 index entries per event instead of 1 each, SQLite's
// insert work x1.33 less (README, "History at scale"); a lookup reads a block's rows (a few
// pages) per entry. Not in any CREATE INDEX, but the stored marks follow it: changing it takes a
// migration that clears them.
constexpr int kRepeatBlockBits = 8;
static_assert(kRepeatBlockBits <= kChunkBits, "a block lies in one chunk");

// The event ids the store holds, [first, last]; {0, -1} when it is empty.
struct IdRange {
  std::int64_t first = 0;
  std::int64_t last = -1;
};
IdRange store_id_range(sqlite3* db);

// Chunks of `bits` ids, as an SQL list ("0,1,2"; "-1", no chunk, for none).
struct StoreChunks {
  int bits = kChunkBits;
  std::string list = "-1";
};
// The chunks from the oldest event's to the newest's (from `from` on, if later).
StoreChunks store_chunks(const IdRange& ids, int schema, std::int64_t from = 0);
// `(row.id >> bits) IN (list)`: a lookup's condition on the chunk its indexes lead with.
std::string in_chunks(const StoreChunks& chunks, std::string_view row);
// `column values` ("= ?1", "IN (...)"), a lookup's condition on the key after the chunk: probed
// for each value in each chunk, or (scan, for many values) each chunk's entries read and tested:
// `+` keeps the value from the probe, IS NOT NULL still names the partial indexes' WHERE.
std::string key_condition(std::string_view column, std::string_view values, bool scan);

}  // namespace procsentry
