#include "store/string_cache.h"

#include <cstring>

namespace procsentry {

StringCache::Slot* StringCache::probe(std::uint64_t hash, std::string_view text) {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.entry.id == 0) return &slot;
    if (slot.hash == hash && slot.length == text.size() &&
        std::memcmp(texts_.data() + slot.offset, text.data(), text.size()) == 0) {
      return &slot;
    }
  }
}

StringCache::Entry* StringCache::find(std::int64_t hash, std::string_view text) {
  if (size_ == 0) return nullptr;
  Slot* slot = probe(static_cast<std::uint64_t>(hash), text);
  return slot->entry.id != 0 ? &slot->entry : nullptr;
}

StringCache::Entry* StringCache::add(std::int64_t hash, std::string_view text, Entry entry) {
  if (text.size() > kMaxTextBytes / 16) return nullptr;  // a 300 KiB command line would push out thousands
  if (size_ >= kMaxEntries || texts_.size() + text.size() > kMaxTextBytes) clear();
  if ((size_ + 1) * 2 > slots_.size()) grow();  // at most half full: probes stay short
  Slot* slot = probe(static_cast<std::uint64_t>(hash), text);
  slot->hash = static_cast<std::uint64_t>(hash);
  slot->offset = static_cast<std::uint32_t>(texts_.size());
  slot->length = static_cast<std::uint32_t>(text.size());
  slot->entry = entry;
  texts_ += text;
  ++size_;
  return &slot->entry;
}

void StringCache::grow() {
  std::vector<Slot> old(slots_.empty() ? 1024 : slots_.size() * 2);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.entry.id == 0) continue;
    std::size_t i = slot.hash & mask;
    while (slots_[i].entry.id != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void StringCache::clear() {
  for (Slot& slot : slots_) slot.entry.id = 0;
  texts_.clear();
  size_ = 0;
}

}  // namespace procsentry
