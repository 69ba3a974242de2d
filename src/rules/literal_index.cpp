#include "rules/literal_index.h"

#include <algorithm>
#include <cstring>

namespace procsentry {
namespace {

template <typename Word>
std::uint64_t load(const char* p) {
  Word v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The length and the first, middle and last 8 bytes (fewer for short texts): as cheap for a
// long path as for a short one, and paths that differ tend to differ at their ends (equal
// hashes are compared whole).
std::uint64_t ends_hash(std::string_view s) {
  const char* p = s.data();
  const std::size_t n = s.size();
  std::uint64_t a = 0, b = 0, c = 0;
  if (n >= 8) {
    a = load<std::uint64_t>(p);
    b = load<std::uint64_t>(p + n / 2 - 4);
    c = load<std::uint64_t>(p + n - 8);
  } else if (n >= 4) {
    a = load<std::uint32_t>(p);
    c = load<std::uint32_t>(p + n - 4);
  } else if (n > 0) {
    a = static_cast<unsigned char>(p[0]) | static_cast<unsigned>(static_cast<unsigned char>(p[n / 2])) << 8 |
        static_cast<unsigned>(static_cast<unsigned char>(p[n - 1])) << 16;
  }
  // Multiply and fold, as a 64-bit finalizer does: every input bit moves the result.
  std::uint64_t h = (a ^ (b * 0xff51afd7ed558ccdull) ^ (c * 0x9e3779b97f4a7c15ull) ^ n) * 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

}  // namespace

bool LiteralIndex::build(const std::vector<std::pair<std::string_view, int>>& literals) {
  lengths_.clear();
  slots_.clear();
  for (const auto& entry : literals) {
    const std::string_view literal = entry.first;  // clang 14 cannot capture a structured binding
    auto it =
        std::find_if(lengths_.begin(), lengths_.end(), [&](const Length& l) { return l.length == literal.size(); });
    if (it == lengths_.end()) it = lengths_.insert(lengths_.end(), Length{literal.size(), {}});
    if (literal.empty()) continue;
    const auto edge = static_cast<unsigned char>(where_ == Where::end ? literal.front() : literal.back());
    it->edge[edge / 64] |= std::uint64_t{1} << (edge % 64);
  }
  if (where_ != Where::whole && lengths_.size() > kMaxLengths) {
    lengths_.clear();
    return false;
  }
  std::sort(lengths_.begin(), lengths_.end(), [](const Length& x, const Length& y) { return x.length < y.length; });
  if (literals.empty()) return true;
  std::size_t capacity = 8;
  while (capacity < literals.size() * 2) capacity *= 2;
  slots_.assign(capacity, Slot{});
  for (const auto& [literal, id] : literals) {
    const std::uint64_t hash = ends_hash(literal);
    std::size_t i = hash & (capacity - 1);
    while (slots_[i].id >= 0) i = (i + 1) & (capacity - 1);
    slots_[i] = Slot{hash, literal, id};
  }
  return true;
}

int LiteralIndex::lookup(std::string_view text) const {
  const std::uint64_t hash = ends_hash(text);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask; slots_[i].id >= 0; i = (i + 1) & mask) {
    if (slots_[i].hash == hash && slots_[i].literal == text) return slots_[i].id;
  }
  return -1;
}

}  // namespace procsentry
