// A table keyed by text for the store writer's caches (strings' ids, processes' first events):
// open addressing over one arena of texts, a probe comparing the caller's 64-bit hash of the
// text (store_string_hash: computed once, also the strings.hash column) before its bytes. A hit
// costs one slot and one memcmp, and nothing is allocated once warm: a std::unordered_map
// keyed by std::string cost a node, a bucket and the key's own allocation, each a cache miss.
// Bounded: when full it starts over (forgetting costs the caller a lookup).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace procsentry {

// A text kept in a TextTable's arena with its keys (TextTable::keep).
struct TextRef {
  std::uint32_t offset = 0, length = 0;
};

template <class Value, std::size_t MaxEntries, std::size_t MaxTextBytes>
class TextTable {
 public:
  using Entry = Value;
  static constexpr std::size_t kMaxEntries = MaxEntries;  // slots: up to twice as many
  static constexpr std::size_t kMaxTextBytes = MaxTextBytes;

  // The value of `text` (non-empty), whose hash is `hash`; nullptr if not there.
  Value* find(std::int64_t hash, std::string_view text) {
    if (size_ == 0) return nullptr;
    Slot* slot = probe(static_cast<std::uint64_t>(hash), text);
    return slot->length != 0 ? &slot->value : nullptr;
  }
  // Adds `text` (non-empty, not there yet); nullptr if it is too long to be kept. Starts over
  // first when full. Valid until the next add.
  Value* add(std::int64_t hash, std::string_view text, const Value& value) {
    if (text.empty() || text.size() > kMaxTextBytes / 16) return nullptr;  // one text pushing out thousands
    if (size_ >= kMaxEntries || texts_.size() + text.size() > kMaxTextBytes) clear();
    if ((size_ + 1) * 2 > slots_.size()) grow();  // at most half full: probes stay short
    Slot* slot = probe(static_cast<std::uint64_t>(hash), text);
    slot->hash = static_cast<std::uint64_t>(hash);
    slot->offset = static_cast<std::uint32_t>(texts_.size());
    slot->length = static_cast<std::uint32_t>(text.size());
    slot->value = value;
    texts_ += text;
    ++size_;
    return &slot->value;
  }
  // Keeps another text with the keys (a value names it), until the table starts over: call it
  // after the add, which may start over. Nothing once the texts hold twice kMaxTextBytes (only
  // values changed without an add keep texts past kMaxTextBytes).
  std::optional<TextRef> keep(std::string_view text) {
    if (texts_.size() + text.size() > 2 * kMaxTextBytes) return std::nullopt;
    TextRef ref{static_cast<std::uint32_t>(texts_.size()), static_cast<std::uint32_t>(text.size())};
    texts_ += text;
    return ref;
  }
  std::string_view text(TextRef ref) const { return std::string_view(texts_).substr(ref.offset, ref.length); }
  void clear() {
    for (Slot& slot : slots_) slot.length = 0;
    texts_.clear();
    size_ = 0;
  }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0, length = 0;  // in texts_; length 0: empty
    Value value{};
  };

  // The slot of `text`, or the empty one it would take.
  Slot* probe(std::uint64_t hash, std::string_view text) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.length == 0) return &slot;
      if (slot.hash == hash && slot.length == text.size() &&
          std::memcmp(texts_.data() + slot.offset, text.data(), text.size()) == 0) {
        return &slot;
      }
    }
  }
  void grow() {
    std::vector<Slot> old(slots_.empty() ? 1024 : slots_.size() * 2);
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.length == 0) continue;
      std::size_t i = slot.hash & mask;
      while (slots_[i].length != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::string texts_;
  std::size_t size_ = 0;
};

}  // namespace procsentry
