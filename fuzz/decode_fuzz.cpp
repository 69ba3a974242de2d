// libFuzzer: arbitrary bytes as one record, and as a stream of records split by their sizes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/decode.h"
#include "procsentry/wire/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static procsentry::Decoder decoder(procsentry::ClockMapping{1'700'000'000'000'000'000});
  std::span<const std::uint8_t> bytes(data, size);
  (void)decoder.decode(bytes);
  // As a replay stream: walk records by their declared sizes, as a reader of a file would.
  while (bytes.size() >= sizeof(ps_header)) {
    ps_header hdr{};
    std::memcpy(&hdr, bytes.data(), sizeof(hdr));
    if (hdr.size < sizeof(ps_header) || hdr.size > bytes.size()) break;
    (void)decoder.decode(bytes.first(hdr.size));
    bytes = bytes.subspan(hdr.size);
  }
  return 0;
}
