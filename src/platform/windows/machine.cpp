#include "platform/machine.h"

#include <windows.h>
// after windows.h
#include <sddl.h>

#include <memory>

namespace procsentry {
namespace {

std::string utf8(const wchar_t* text, int length) {
  if (length <= 0) return {};
  int size = WideCharToMultiByte(CP_UTF8, 0, text, length, nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(size > 0 ? size : 0), '\0');
  if (size > 0) WideCharToMultiByte(CP_UTF8, 0, text, length, out.data(), size, nullptr, nullptr);
  return out;
}

// Windows records carry no uid; a create's token names its user by SID, which the local
// security authority names (the domain's accounts through the domain controller).
class WindowsUserDatabase final : public UserDatabase {
 public:
  std::string user_name(std::uint32_t) override { return {}; }
  std::string group_name(std::uint32_t) override { return {}; }
  std::string account_name(std::string_view sid_text) override {
    PSID sid = nullptr;
    if (!ConvertStringSidToSidA(std::string(sid_text).c_str(), &sid)) return {};
    std::unique_ptr<void, HLOCAL (*)(HLOCAL)> owned(sid, LocalFree);
    wchar_t name[256] = {};
    wchar_t domain[256] = {};
    DWORD name_length = 256;
    DWORD domain_length = 256;
    SID_NAME_USE use;
    if (!LookupAccountSidW(nullptr, sid, name, &name_length, domain, &domain_length, &use)) return {};
    std::string account = utf8(domain, static_cast<int>(domain_length));
    if (!account.empty()) account += '\\';
    return account + utf8(name, static_cast<int>(name_length));
  }
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
  static WindowsUserDatabase database;
  return database;
}

}  // namespace procsentry
