#include "core/windows_token.h"

#include <fmt/core.h>

#include <string>

namespace procsentry {

std::optional<std::string> sid_to_string(std::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])); };
  const std::size_t count = byte(1);
  if (byte(0) != 1 || count > 15 || bytes.size() != 8 + 4 * count) return std::nullopt;
  std::uint64_t authority = 0;
  for (std::size_t i = 2; i < 8; ++i) authority = (authority << 8) | byte(i);  // big-endian
  // Authorities of 2^32 and more are printed in hex, as ConvertSidToStringSid does.
  std::string text =
      authority < (1ull << 32) ? fmt::format("S-1-{}", authority) : fmt::format("S-1-0x{:012X}", authority);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t at = 8 + 4 * i;
    const std::uint32_t sub = byte(at) | (byte(at + 1) << 8) | (byte(at + 2) << 16) | (byte(at + 3) << 24);  // LE
    text += '-';
    text += std::to_string(sub);
  }
  return text;
}

std::string_view integrity_level_name(std::uint32_t rid) {
  switch (rid) {
    case 0x0000:
      return "untrusted";
    case 0x1000:
      return "low";
    case 0x2000:
      return "medium";
    case 0x2100:
      return "medium_plus";
    case 0x3000:
      return "high";
    case 0x4000:
      return "system";
    case 0x5000:
      return "protected";
    default:
      return "";
  }
}

std::string_view elevation_type_name(std::uint8_t type) {
  switch (type) {
    case 1:
      return "default";
    case 2:
      return "full";
    case 3:
      return "limited";
    default:
      return "";
  }
}

std::string_view token_type_name(std::uint8_t type) {
  switch (type) {
    case 1:
      return "primary";
    case 2:
      return "impersonation";
    default:
      return "";
  }
}

std::string logon_id_text(std::uint64_t id) { return fmt::format("{:#x}", id); }

}  // namespace procsentry
