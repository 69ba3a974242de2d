#include "store/body_codec.h"

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_f_zstd1_magicless, ZSTD_getFrameHeader_advanced
#include <fmt/format.h>
#include <zdict.h>
#include <zstd.h>

namespace procsentry {

BodyEncoder::BodyEncoder(int level) : cctx_(ZSTD_createCCtx()), level_(level) {
  // Each byte not written is a byte per event: no magic number, checksum or dictionary id;
  // the content size stays (the decoder sizes its buffer from it).
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_format, ZSTD_f_zstd1_magicless);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 0);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_dictIDFlag, 0);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
}

BodyEncoder::~BodyEncoder() {
  ZSTD_freeCDict(cdict_);
  ZSTD_freeCCtx(cctx_);
}

Result<bool> BodyEncoder::use_dictionary(std::int64_t id, std::string_view bytes) {
  ZSTD_CDict* cdict = nullptr;
  if (id != 0 && !bytes.empty()) {
    // Level 3's tables for a 32 KiB dictionary are 441 KiB, looked up at random for each
    // position of each body and out of the cache again by the next (SQLite's pages come
    // between): with the short-match table at 4,096 entries instead of 65,536 (195 KiB), zstd
    // took 17% less of the store's CPU, and bodies are 0.3% larger (README, issue 13).
    ZSTD_CCtx_params* params = ZSTD_createCCtxParams();
    if (params == nullptr) return Error{"zstd: out of memory"};
    ZSTD_CCtxParams_init(params, level_);
    ZSTD_CCtxParams_setParameter(params, ZSTD_c_chainLog, kChainLog);
    cdict = ZSTD_createCDict_advanced2(bytes.data(), bytes.size(), ZSTD_dlm_byCopy, ZSTD_dct_auto, params,
                                       ZSTD_defaultCMem);
    ZSTD_freeCCtxParams(params);
    if (cdict == nullptr) return Error{fmt::format("zstd dictionary {} is not usable", id)};
  }
  if (const std::size_t rc = ZSTD_CCtx_refCDict(cctx_, cdict); ZSTD_isError(rc)) {
    ZSTD_freeCDict(cdict);
    return Error{fmt::format("zstd dictionary {}: {}", id, ZSTD_getErrorName(rc))};
  }
  ZSTD_freeCDict(cdict_);
  cdict_ = cdict;
  dictionary_id_ = cdict != nullptr ? id : 0;
  return true;
}

Result<std::string_view> BodyEncoder::encode(std::string_view json) {
  out_.resize(ZSTD_compressBound(json.size()));
  const std::size_t n = ZSTD_compress2(cctx_, out_.data(), out_.size(), json.data(), json.size());
  if (ZSTD_isError(n)) return Error{fmt::format("zstd: {}", ZSTD_getErrorName(n))};
  return std::string_view(out_.data(), n);
}

BodyDecoder::BodyDecoder() : dctx_(ZSTD_createDCtx()) {
  ZSTD_DCtx_setParameter(dctx_, ZSTD_d_format, ZSTD_f_zstd1_magicless);
}

BodyDecoder::~BodyDecoder() {
  for (auto& [id, ddict] : ddicts_) ZSTD_freeDDict(ddict);
  ZSTD_freeDCtx(dctx_);
}

Result<bool> BodyDecoder::add_dictionary(std::int64_t id, std::string_view bytes) {
  ZSTD_DDict* ddict = ZSTD_createDDict(bytes.data(), bytes.size());
  if (ddict == nullptr) return Error{fmt::format("zstd dictionary {} is not usable", id)};
  if (auto [it, added] = ddicts_.try_emplace(id, ddict); !added) {
    ZSTD_freeDDict(it->second);
    it->second = ddict;
  }
  return true;
}

Result<bool> BodyDecoder::decode(std::int64_t dictionary_id, std::string_view body, std::string& out) {
  ZSTD_DDict* ddict = nullptr;
  if (dictionary_id != 0) {
    auto it = ddicts_.find(dictionary_id);
    if (it == ddicts_.end()) return Error{fmt::format("no zstd dictionary {}", dictionary_id)};
    ddict = it->second;
  }
  ZSTD_frameHeader header{};
  if (ZSTD_getFrameHeader_advanced(&header, body.data(), body.size(), ZSTD_f_zstd1_magicless) != 0 ||
      header.frameType != ZSTD_frame || header.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN ||
      header.frameContentSize > kMaxBody) {
    return Error{"corrupt body: not a zstd frame this store writes"};
  }
  out.resize(static_cast<std::size_t>(header.frameContentSize));
  ZSTD_DCtx_refDDict(dctx_, ddict);
  const std::size_t n = ZSTD_decompressDCtx(dctx_, out.data(), out.size(), body.data(), body.size());
  if (ZSTD_isError(n)) {
    ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);  // a failed frame leaves no state behind
    return Error{fmt::format("corrupt body: zstd: {}", ZSTD_getErrorName(n))};
  }
  if (n != out.size()) return Error{"corrupt body: shorter than its frame header says"};
  return true;
}

Result<std::string> train_dictionary(std::string_view samples, const std::vector<std::size_t>& sizes,
                                     std::size_t capacity) {
  std::string dictionary(capacity, '\0');
  const std::size_t n = ZDICT_trainFromBuffer(dictionary.data(), dictionary.size(), samples.data(), sizes.data(),
                                              static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) return Error{fmt::format("zstd dictionary training: {}", ZDICT_getErrorName(n))};
  dictionary.resize(n);
  return dictionary;
}

}  // namespace procsentry
