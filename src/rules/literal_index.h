// The literals of exact, prefix or suffix globs (`comm: poller3`, `/opt/vendor/*`, `*/sh`),
// found without a regex: a text is hashed once per distinct literal length and compared whole
// only with a literal of the same hash (open addressing). A prefix or suffix look-up at a
// length is skipped when the text's byte next to the wildcard is no literal's byte there.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace procsentry {

class LiteralIndex {
 public:
  enum class Where { whole, start, end };
  // More distinct lengths than this and a prefix or suffix look-up would hash the text that
  // many times: build() refuses them (a regex reads the text once).
  static constexpr std::size_t kMaxLengths = 8;

  explicit LiteralIndex(Where where) : where_(where) {}
  // `literals`: each viewing a string that outlives this, with its pattern's index. False
  // (nothing indexed) when they have too many lengths.
  bool build(const std::vector<std::pair<std::string_view, int>>& literals);
  bool empty() const { return slots_.empty(); }
  // Calls hit(index) for each literal the text equals, starts or ends with.
  template <typename Hit>
  void find(std::string_view text, Hit&& hit) const {
    if (slots_.empty()) return;
    if (where_ == Where::whole) {
      if (const int id = lookup(text); id >= 0) hit(id);
      return;
    }
    for (const Length& l : lengths_) {
      if (l.length > text.size()) break;
      const std::size_t at = where_ == Where::start ? 0 : text.size() - l.length;
      const auto edge = static_cast<unsigned char>(text[where_ == Where::start ? l.length - 1 : at]);
      if ((l.edge[edge / 64] & (std::uint64_t{1} << (edge % 64))) == 0) continue;
      if (const int id = lookup(text.substr(at, l.length)); id >= 0) hit(id);
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::string_view literal;
    int id = -1;  // -1: empty
  };
  struct Length {
    std::size_t length = 0;
    std::array<std::uint64_t, 4> edge{};  // bytes the literals of this length have at the wildcard
  };
  int lookup(std::string_view text) const;

  Where where_;
  std::vector<Length> lengths_;  // ascending
  std::vector<Slot> slots_;      // a power of two, at most half full
};

}  // namespace procsentry
