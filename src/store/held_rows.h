// Rows the StoreWriter holds back, owned, while the WAL checkpointer finishes: a transaction
// that begins once a checkpoint has copied all of the WAL starts the WAL over, one begun before
// cannot (store_writer.cpp). They are inserted in order when released, a few at a time if need be.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>

#include "store/store_row.h"

namespace procsentry {

class HeldRows {
 public:
  void hold(const StoreRow& row) {
    Held& held = rows_.emplace_back();
    held.row = row;
    const auto text = views(held.row);
    for (std::size_t i = 0; i < kTexts; ++i) held.texts[i].assign(*text[i]);
  }
  // Calls `insert(const StoreRow&)` for the `most` oldest rows, oldest first, and forgets them.
  template <typename Insert>
  void release(Insert&& insert, std::size_t most = SIZE_MAX) {
    for (; most > 0 && !rows_.empty(); --most) {
      Held& held = rows_.front();
      const auto text = views(held.row);
      for (std::size_t i = 0; i < kTexts; ++i) *text[i] = held.texts[i];
      insert(held.row);
      rows_.pop_front();
    }
  }
  bool empty() const { return rows_.empty(); }

 private:
  static constexpr std::size_t kTexts = 8;
  struct Held {
    StoreRow row;
    std::array<std::string, kTexts> texts;
  };
  static std::array<std::string_view*, kTexts> views(StoreRow& row) {
    return {&row.user, &row.process_uid,  &row.parent_uid, &row.image,
            &row.argv, &row.parent_image, &row.hash,       &row.json};
  }

  std::deque<Held> rows_;
};

}  // namespace procsentry
