#include <windows.h>
// After windows.h: they need its types.
#include <aclapi.h>
#include <sddl.h>

#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "platform/windows/error_text.h"
#include "store/store_file.h"

namespace procsentry {
namespace {

// SQLite takes UTF-8 paths: the files it opens and the ones made here must be the same.
std::wstring wide(const std::string& utf8) {
  const int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

struct LocalFreeDeleter {
  void operator()(void* p) const { LocalFree(p); }
};
using SecurityDescriptor = std::unique_ptr<void, LocalFreeDeleter>;

// The process token's user as a string SID (S-1-5-21-...).
Result<std::wstring> token_user_sid() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    return Error{"cannot read this process's token: " + windows_error_text(GetLastError())};
  }
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> buffer(size);
  const bool read = size > 0 && GetTokenInformation(token, TokenUser, buffer.data(), size, &size);
  const DWORD read_error = GetLastError();
  CloseHandle(token);
  if (!read) return Error{"cannot read this process's user: " + windows_error_text(read_error)};
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text)) {
    return Error{"cannot name this process's user: " + windows_error_text(GetLastError())};
  }
  std::wstring sid(text);
  LocalFree(text);
  return sid;
}

// Full access for the user, Administrators (BA) and SYSTEM (SY), nothing inherited (P).
Result<SecurityDescriptor> private_descriptor() {
  auto user = token_user_sid();
  if (!user) return user.error();
  const std::wstring sddl = L"D:P(A;;FA;;;" + *user + L")(A;;FA;;;BA)(A;;FA;;;SY)";
  PSECURITY_DESCRIPTOR raw = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &raw, nullptr)) {
    return Error{"cannot build the database's ACL: " + windows_error_text(GetLastError())};
  }
  return SecurityDescriptor(raw);
}

// Creates `path` with `descriptor`'s DACL, or narrows the file there to it. A file whose DACL this
// user may not change (another's) is left as it is, as the POSIX store leaves another's mode.
Result<Ok> create_private(const std::string& path, PSECURITY_DESCRIPTOR descriptor) {
  const std::wstring name = wide(path);
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), descriptor, FALSE};
  constexpr DWORD kShare = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
  HANDLE file = CreateFileW(name.c_str(), READ_CONTROL | WRITE_DAC | FILE_READ_DATA | FILE_WRITE_DATA, kShare,
                            &attributes, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file != INVALID_HANDLE_VALUE) {
    const bool existed = GetLastError() == ERROR_ALREADY_EXISTS;
    DWORD status = ERROR_SUCCESS;
    if (existed) {
      BOOL present = FALSE;
      BOOL defaulted = FALSE;
      PACL dacl = nullptr;
      GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted);
      status = SetSecurityInfo(file, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                               nullptr, nullptr, dacl, nullptr);
    }
    CloseHandle(file);
    if (status != ERROR_SUCCESS) {
      return Error{fmt::format("cannot make the database {} private: {}", path, windows_error_text(status))};
    }
    return Ok{};
  }
  DWORD error = GetLastError();
  if (error == ERROR_ACCESS_DENIED) {
    // Perhaps only the ACL is out of reach: a file we may read and write is used as it is.
    file = CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, kShare, nullptr, OPEN_EXISTING,
                       FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file != INVALID_HANDLE_VALUE) {
      CloseHandle(file);
      return Ok{};
    }
    error = GetLastError();
  }
  return Error{fmt::format("cannot open the database {}: {} (use --db PATH)", path, windows_error_text(error))};
}

}  // namespace

std::string default_database_path() {
  const char* local = std::getenv("LOCALAPPDATA");
  return std::string(local != nullptr && *local != '\0' ? local : ".") + "\\procsentry\\events.db";
}

Result<Ok> create_private_store(const std::string& path) {
  auto descriptor = private_descriptor();
  if (!descriptor) return Error{fmt::format("database {}: {}", path, descriptor.error().message)};
  // SQLite keeps an existing -wal or -shm file and the DACL it has: made first, they hold
  // recorded events under the same ACL as the database.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (auto made = create_private(path + suffix, descriptor->get()); !made) return made.error();
  }
  return Ok{};
}

}  // namespace procsentry
