// Rows the StoreWriter holds back, owned, while the WAL checkpointer finishes: a transaction
// that begins once a checkpoint has copied all of the WAL starts the WAL over, one begun before
// cannot (store_writer.cpp). They are inserted in order when released.
#pragma once

#include <array>
#include <string>
#include <vector>

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
  // Calls `insert(const StoreRow&)` for each row, oldest first, and forgets them.
  template <typename Insert>
  void release(Insert&& insert) {
    for (Held& held : rows_) {
      const auto text = views(held.row);  // pointed at the copies only now: a vector's move moves short strings' bytes
      for (std::size_t i = 0; i < kTexts; ++i) *text[i] = held.texts[i];
      insert(held.row);
    }
    rows_.clear();
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

  std::vector<Held> rows_;
};

}  // namespace procsentry
