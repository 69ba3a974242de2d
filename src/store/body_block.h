// Schema 6's body blocks: the JSON Lines objects of up to kBodyBlockEvents consecutive events
// compressed together in one zstd frame instead of a frame each, stored in parts (table
// body_blocks, keyed by body_part_key: the block's first event id, then the part). zstd finds an event's repeats in its
// neighbours as well as in the dictionary: on the benchmark's events 0.84 instead of 1.5 us and 59 instead of 95 bytes
// per event (README, "History at scale"). Reading one event decompresses its block (~36 us for 128); a scan
// decompresses each block once (store_functions.cpp keeps the last one). Before compression a block is each body as a
// 4-byte little-endian length, then its bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace procsentry {

constexpr std::size_t kBodyBlockEvents = 128;
// A block ends before this many bytes (a 40 KiB command line makes a short one): one event's
// read stays cheap, and no block comes near BodyDecoder::kMaxBody.
constexpr std::size_t kBodyBlockBytes = 256 * 1024;
// zstd's level for blocks: level 3 with a dictionary on a block took longer than frames of one
// event each (its tables copied per frame); level 1 is 0.84 us an event (README).
constexpr int kBodyBlockLevel = 1;
// A block's frame is stored in parts of this many bytes, four to a 16 KiB page: a frame of 8 KiB
// in one row left a page a third empty (two seldom fit), a 30% larger table (README).
constexpr std::size_t kBodyPartBytes = 4000;
constexpr int kBodyPartBits = 8;  // parts per block: at most 2^8 (a longer frame gets longer parts)
constexpr std::int64_t body_part_key(std::int64_t first_id, std::int64_t part) {
  return first_id << kBodyPartBits | part;
}
constexpr std::int64_t body_block_of_key(std::int64_t key) { return key >> kBodyPartBits; }
// The frame's parts' sizes, in order.
std::vector<std::size_t> body_part_sizes(std::size_t frame_bytes);

// The block being written: bodies of consecutive ids from first_id().
class BodyBlockBuilder {
 public:
  bool empty() const { return count_ == 0; }
  std::size_t count() const { return count_; }
  std::int64_t first_id() const { return first_id_; }
  std::int64_t next_id() const { return first_id_ + static_cast<std::int64_t>(count_); }
  // Whether `json` of event `id` can go in this block (consecutive, and room left).
  bool takes(std::int64_t id, std::string_view json) const {
    return empty() ||
           (id == next_id() && count_ < kBodyBlockEvents && bytes_.size() + 4 + json.size() <= kBodyBlockBytes);
  }
  void add(std::int64_t id, std::string_view json);
  bool full() const { return count_ >= kBodyBlockEvents || bytes_.size() >= kBodyBlockBytes; }
  std::string_view bytes() const { return bytes_; }  // to compress
  void clear() {
    bytes_.clear();
    count_ = 0;
  }

 private:
  std::string bytes_;
  std::size_t count_ = 0;
  std::int64_t first_id_ = 0;
};

// The `count` bodies of a decompressed block (views into `block`), or why it is corrupt: the
// bytes come from a file, every length is checked.
Result<std::vector<std::string_view>> split_body_block(std::string_view block, std::int64_t count);

}  // namespace procsentry
