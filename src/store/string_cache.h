// The writer's cache of `strings` rows by text (EventStore::string_id): open addressing over
// one arena of texts, a probe comparing the stored 64-bit hash (XXH3, computed once per text
// and also the column's) before the bytes. A hit costs one slot and one memcmp, and nothing is
// allocated once warm: a std::unordered_map<std::string> cost a node, a bucket and the text's
// own allocation, each a cache miss. Bounded: when full it starts over (forgetting costs a lookup).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace procsentry {

class StringCache {
 public:
  static constexpr std::size_t kMaxTextBytes = 4u << 20;
  static constexpr std::size_t kMaxEntries = 1u << 16;  // slots: twice as many, 32 bytes each

  struct Entry {
    std::int64_t id = 0;       // strings.id, never 0
    std::int64_t last_id = 0;  // strings.last_id as the open batch leaves it (EventStore::string_id)
  };

  // The entry of `text`, whose store_string_hash is `hash`; nullptr if not cached.
  Entry* find(std::int64_t hash, std::string_view text);
  // Caches `text` (not cached yet); nullptr if it is too long to be. Valid until the next add.
  Entry* add(std::int64_t hash, std::string_view text, Entry entry);
  void clear();
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0, length = 0;  // in texts_
    Entry entry;                           // entry.id 0: empty
  };
  Slot* probe(std::uint64_t hash, std::string_view text);  // its slot, or the empty one it would take
  void grow();

  std::vector<Slot> slots_;
  std::string texts_;
  std::size_t size_ = 0;
};

}  // namespace procsentry
