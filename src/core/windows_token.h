// The numbers a Windows token carries, named as Windows' own tools name them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace procsentry {

// A SID's binary form (revision 1, at most 15 sub-authorities, exactly its length) as
// "S-1-5-21-...": nullopt if the bytes are not one.
std::optional<std::string> sid_to_string(std::string_view bytes);

// 0x0000 untrusted, 0x1000 low, 0x2000 medium, 0x2100 medium_plus, 0x3000 high,
// 0x4000 system, 0x5000 protected; "" for any other RID.
std::string_view integrity_level_name(std::uint32_t rid);
std::string_view elevation_type_name(std::uint8_t type);  // default, full, limited; ""
std::string_view token_type_name(std::uint8_t type);      // primary, impersonation; ""
// A logon session id as Windows prints it: "0x3e7".
std::string logon_id_text(std::uint64_t id);

}  // namespace procsentry
