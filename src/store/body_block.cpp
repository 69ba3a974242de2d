#include "store/body_block.h"

#include <fmt/format.h>

#include <algorithm>

namespace procsentry {

void BodyBlockBuilder::add(std::int64_t id, std::string_view json) {
  if (count_ == 0) first_id_ = id;
  const auto size = static_cast<std::uint32_t>(json.size());
  for (int shift = 0; shift < 32; shift += 8) bytes_.push_back(static_cast<char>((size >> shift) & 0xff));
  bytes_ += json;
  ++count_;
}

std::vector<std::size_t> body_part_sizes(std::size_t frame_bytes) {
  constexpr std::size_t kMostParts = std::size_t{1} << kBodyPartBits;
  const std::size_t part = std::max(kBodyPartBytes, (frame_bytes + kMostParts - 1) / kMostParts);
  std::vector<std::size_t> sizes;
  for (std::size_t at = 0; at < frame_bytes; at += part) sizes.push_back(std::min(part, frame_bytes - at));
  return sizes;
}

Result<std::vector<std::string_view>> split_body_block(std::string_view block, std::int64_t count) {
  if (count < 1 || static_cast<std::uint64_t>(count) > kBodyBlockEvents) {
    return Error{fmt::format("corrupt body block: {} events", count)};
  }
  std::vector<std::string_view> bodies;
  bodies.reserve(static_cast<std::size_t>(count));
  std::size_t at = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    if (block.size() - at < 4) return Error{fmt::format("corrupt body block: event {} of {} cut short", i + 1, count)};
    std::uint32_t size = 0;
    for (std::size_t b = 0; b < 4; ++b) {
      size |= static_cast<std::uint32_t>(static_cast<unsigned char>(block[at + b])) << (8 * b);
    }
    at += 4;
    if (block.size() - at < size) {
      return Error{fmt::format("corrupt body block: event {} of {} cut short", i + 1, count)};
    }
    bodies.push_back(block.substr(at, size));
    at += size;
  }
  if (at != block.size()) return Error{"corrupt body block: bytes after its last event"};
  return bodies;
}

}  // namespace procsentry
