#include "platform/machine.h"

#include <windows.h>

namespace procsentry {
namespace {

// Windows records carry no uid; a SID lookup would be the Windows equivalent.
class NoUserDatabase final : public UserDatabase {
 public:
  std::string user_name(std::uint32_t) override { return {}; }
  std::string group_name(std::uint32_t) override { return {}; }
};

}  // namespace

ClockMapping boot_clock_mapping() { return ClockMapping{}; }

std::string boot_id() { return {}; }

// Readable without privileges; set at installation and kept across reboots.
std::string host_id() {
  wchar_t guid[64] = {};
  DWORD size = sizeof(guid);
  if (RegGetValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Cryptography", L"MachineGuid",
                   RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY, nullptr, guid, &size) != ERROR_SUCCESS) {
    return {};
  }
  std::string out;
  for (const wchar_t* c = guid; *c != 0; ++c) out += static_cast<char>(*c);  // hex digits and dashes
  return out;
}

std::string host_name() {
  char name[256] = {};
  DWORD size = sizeof(name);
  if (GetComputerNameExA(ComputerNameDnsHostname, name, &size) == 0) return {};
  return std::string(name, size);
}

ProcessUidScheme process_uid_scheme() { return ProcessUidScheme(boot_id(), 100); }

UserDatabase& user_database() {
  static NoUserDatabase database;
  return database;
}

}  // namespace procsentry
