#include "platform/windows/private_acl.h"

#include <windows.h>
// After windows.h: they need its types.
#include <aclapi.h>
#include <sddl.h>

#include <string>
#include <vector>

#include "platform/windows/error_text.h"

namespace procsentry {
namespace {

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

}  // namespace

// Full access for the user, Administrators (BA) and SYSTEM (SY), nothing inherited (P).
Result<SecurityDescriptor> private_descriptor() {
  auto user = token_user_sid();
  if (!user) return user.error();
  const std::wstring sddl = L"D:P(A;;FA;;;" + *user + L")(A;;FA;;;BA)(A;;FA;;;SY)";
  PSECURITY_DESCRIPTOR raw = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &raw, nullptr)) {
    return Error{"cannot build a private ACL: " + windows_error_text(GetLastError())};
  }
  return SecurityDescriptor(raw);
}

DWORD narrow_to_private(HANDLE file, PSECURITY_DESCRIPTOR descriptor) {
  BOOL present = FALSE;
  BOOL defaulted = FALSE;
  PACL dacl = nullptr;
  if (!GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted)) return GetLastError();
  return SetSecurityInfo(file, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr,
                         nullptr, dacl, nullptr);
}

}  // namespace procsentry
