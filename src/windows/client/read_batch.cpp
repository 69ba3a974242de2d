#include "read_batch.h"

#include <cstring>

#include "procsentry/wire/wire.h"

namespace procsentry {

int deliver_read(std::span<const std::uint8_t> bytes, RecordHandler& handler) {
  int records = 0;
  std::size_t at = 0;
  while (at + sizeof(ps_header) <= bytes.size()) {
    ps_header hdr;
    std::memcpy(&hdr, bytes.data() + at, sizeof(hdr));
    if (hdr.size < sizeof(hdr) || at + hdr.size > bytes.size()) break;  // the decoder reports the rest
    handler.on_record(bytes.subspan(at, hdr.size));
    at += hdr.size;
    ++records;
  }
  if (at < bytes.size()) handler.on_record(bytes.subspan(at));
  handler.on_batch_end();
  return records;
}

}  // namespace procsentry
