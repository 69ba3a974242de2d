// The store's event bodies: JSON Lines objects compressed with zstd, with a dictionary trained
// on earlier events (a 600-byte object shares most of its bytes with its neighbours, which a
// frame of its own cannot see without one). Schemas 2-5 compressed each event alone; schema 6
// compresses blocks of consecutive events (body_block.h). Frames are magicless, without
// checksum or dictionary id: the row names its dictionary, and SQLite guards the pages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

struct ZSTD_CCtx_s;
struct ZSTD_CDict_s;
struct ZSTD_DCtx_s;
struct ZSTD_DDict_s;

namespace procsentry {

// Compresses bodies with one dictionary at a time (at first none: dictionary 0).
class BodyEncoder {
 public:
  static constexpr int kLevel = 3;
  static constexpr int kChainLog = 12;  // the dictionary's table of short matches (body_codec.cpp)

  explicit BodyEncoder(int level = kLevel);
  ~BodyEncoder();
  BodyEncoder(const BodyEncoder&) = delete;
  BodyEncoder& operator=(const BodyEncoder&) = delete;

  // Compresses with `bytes` as dictionary `id` from now on; id 0 (or no bytes): without one.
  Result<bool> use_dictionary(std::int64_t id, std::string_view bytes);
  std::int64_t dictionary_id() const { return dictionary_id_; }
  // The compressed `json`, valid until the next call.
  Result<std::string_view> encode(std::string_view json);

 private:
  ZSTD_CCtx_s* cctx_ = nullptr;
  ZSTD_CDict_s* cdict_ = nullptr;
  int level_;
  std::int64_t dictionary_id_ = 0;
  std::string out_;
};

// Decompresses bodies read from a store: untrusted bytes, bounded and checked.
class BodyDecoder {
 public:
  static constexpr std::size_t kMaxBody = 64u << 20;  // no event's JSON comes near

  BodyDecoder();
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  bool has_dictionary(std::int64_t id) const { return id == 0 || ddicts_.count(id) != 0; }
  Result<bool> add_dictionary(std::int64_t id, std::string_view bytes);
  // `body` (compressed with dictionary `dictionary_id`, added first) into `out`, replaced.
  Result<bool> decode(std::int64_t dictionary_id, std::string_view body, std::string& out);

 private:
  ZSTD_DCtx_s* dctx_ = nullptr;
  std::unordered_map<std::int64_t, ZSTD_DDict_s*> ddicts_;
};

// A dictionary of at most `capacity` bytes trained on `samples` (their bytes end to end, and
// each one's size), or an error when zstd finds too little to learn from.
Result<std::string> train_dictionary(std::string_view samples, const std::vector<std::size_t>& sizes,
                                     std::size_t capacity);

}  // namespace procsentry
