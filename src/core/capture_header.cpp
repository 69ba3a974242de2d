#include "core/capture_header.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

#include "procsentry/wire/wire.h"

namespace procsentry {

bool is_capture_record(std::span<const std::uint8_t> record) {
  ps_header hdr{};
  if (record.size() < sizeof(hdr)) return false;
  std::memcpy(&hdr, record.data(), sizeof(hdr));
  return hdr.magic == PS_WIRE_MAGIC && hdr.type == PS_REC_CAPTURE;
}

std::string encode_capture_header(const CaptureHeader& header) {
  ps_capture c{};
  c.hdr.magic = PS_WIRE_MAGIC;
  c.hdr.version = PS_WIRE_VERSION;
  c.hdr.type = PS_REC_CAPTURE;
  c.hdr.size = sizeof(c);
  c.hdr.timestamp_ns = static_cast<std::uint64_t>(header.began_ns);
  c.hdr.clock = PS_CLOCK_UNIX_EPOCH;
  c.boot_to_epoch_ns = static_cast<std::uint64_t>(header.clock.boot_to_epoch_ns);
  c.uid_tick_ns = header.uid_tick_ns;
  c.capture_version = PS_CAPTURE_VERSION;
  std::memcpy(c.boot_id, header.boot_id.data(), std::min(header.boot_id.size(), sizeof(c.boot_id) - 1));
  return std::string(reinterpret_cast<const char*>(&c), sizeof(c));
}

Result<CaptureHeader> decode_capture_header(std::span<const std::uint8_t> record) {
  ps_capture c{};
  // Later versions only append fields: a longer record is read up to what this one knows.
  if (record.size() < sizeof(c)) {
    return Error{fmt::format("capture header of {} bytes (expected at least {})", record.size(), sizeof(c))};
  }
  std::memcpy(&c, record.data(), sizeof(c));
  if (c.hdr.magic != PS_WIRE_MAGIC || c.hdr.type != PS_REC_CAPTURE) return Error{"not a capture header"};
  if (c.hdr.size != record.size()) {
    return Error{fmt::format("capture header says {} bytes, record has {}", c.hdr.size, record.size())};
  }
  if (c.hdr.version < PS_WIRE_VERSION_MIN || c.hdr.version > PS_WIRE_VERSION || c.capture_version == 0 ||
      c.hdr.clock != PS_CLOCK_UNIX_EPOCH || c.uid_tick_ns == 0 || c.reserved0 != 0) {
    return Error{fmt::format("capture header: bad values (version {}, capture version {}, clock {}, tick {})",
                             c.hdr.version, c.capture_version, c.hdr.clock, c.uid_tick_ns)};
  }
  const std::string_view id(c.boot_id, strnlen(c.boot_id, sizeof(c.boot_id)));
  if (id.size() == sizeof(c.boot_id) || !std::all_of(id.begin(), id.end(), [](char ch) {
        return std::isxdigit(static_cast<unsigned char>(ch)) || ch == '-';
      })) {
    return Error{"capture header: the boot id is not a terminated hex id"};
  }
  CaptureHeader header;
  header.clock.boot_to_epoch_ns = static_cast<std::int64_t>(c.boot_to_epoch_ns);
  header.boot_id = std::string(id);
  header.uid_tick_ns = c.uid_tick_ns;
  header.began_ns = static_cast<std::int64_t>(c.hdr.timestamp_ns);
  return header;
}

}  // namespace procsentry
