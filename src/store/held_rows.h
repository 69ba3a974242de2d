// Rows the StoreWriter holds back, owned, while the WAL checkpointer finishes: a transaction
// that begins once a checkpoint has copied all of the WAL starts the WAL over, one begun before
// cannot (store_writer.cpp). They are inserted in order when released, a few at a time if need be.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "store/store_row.h"

namespace procsentry {

class HeldRows {
 public:
  // The texts go end to end in one buffer, kept from one hold to the next: a row's eight
  // strings of its own cost the store thread 4% of its time (bench/store_scale, issue 13).
  void hold(const StoreRow& row) {
    Held& held = rows_.emplace_back(Held{row, bytes_.size(), {}});
    const auto text = views(held.row);
    for (std::size_t i = 0; i < kTexts; ++i) {
      held.sizes[i] = text[i]->size();
      bytes_.append(*text[i]);
      *text[i] = {};  // the caller's bytes go: read back from bytes_ when released
    }
  }
  // Calls `insert(const StoreRow&)` for the `most` oldest rows, oldest first, and forgets them.
  template <typename Insert>
  void release(Insert&& insert, std::size_t most = SIZE_MAX) {
    for (; most > 0 && next_ < rows_.size(); --most) {
      Held& held = rows_[next_++];
      const auto text = views(held.row);
      std::size_t at = held.offset;
      for (std::size_t i = 0; i < kTexts; ++i) {
        *text[i] = std::string_view(bytes_).substr(at, held.sizes[i]);
        at += held.sizes[i];
      }
      insert(held.row);
    }
    if (next_ == rows_.size()) forget();
  }
  bool empty() const { return next_ == rows_.size(); }

 private:
  static constexpr std::size_t kTexts = 8;
  // Above this the buffer is given back once empty (a burst of 40 KiB command lines).
  static constexpr std::size_t kKeptBytes = std::size_t{4} << 20;
  struct Held {
    StoreRow row;
    std::size_t offset;  // of its first text in bytes_
    std::array<std::size_t, kTexts> sizes;
  };
  static std::array<std::string_view*, kTexts> views(StoreRow& row) {
    return {&row.user, &row.process_uid,  &row.parent_uid, &row.image,
            &row.argv, &row.parent_image, &row.hash,       &row.json};
  }
  void forget() {
    rows_.clear();
    next_ = 0;
    bytes_.clear();
    if (bytes_.capacity() > kKeptBytes) bytes_.shrink_to_fit();
  }

  std::vector<Held> rows_;
  std::size_t next_ = 0;  // rows_[next_..] are held still
  std::string bytes_;
};

}  // namespace procsentry
