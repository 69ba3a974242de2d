// A file's DACL as Windows reports it (run under Wine by tests/unit/windows_store_test.cpp):
// `file_dacl_check PATH` prints this process's user SID, whether the DACL is protected
// (inherits nothing) and each ACE, one line each:
//   user S-1-5-21-...
//   protected 1
//   allow S-1-5-18 001f01ff
// Exits 1 (with one line on stderr) if the DACL cannot be read.
#include <windows.h>
// After windows.h: they need its types.
#include <aclapi.h>
#include <sddl.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

std::string sid_text(PSID sid) {
  char* text = nullptr;
  if (!ConvertSidToStringSidA(sid, &text)) return "?";
  std::string out(text);
  LocalFree(text);
  return out;
}

std::string token_user() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return "?";
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> buffer(size);
  std::string out = "?";
  if (size > 0 && GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
    out = sid_text(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid);
  }
  CloseHandle(token);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: file_dacl_check PATH\n");
    return 2;
  }
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  DWORD status = GetNamedSecurityInfoA(argv[1], SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr, &dacl,
                                       nullptr, &descriptor);
  if (status != ERROR_SUCCESS) {
    std::fprintf(stderr, "file_dacl_check: cannot read the DACL of %s: error %lu\n", argv[1], status);
    return 1;
  }
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  GetSecurityDescriptorControl(descriptor, &control, &revision);
  std::printf("user %s\n", token_user().c_str());
  std::printf("protected %d\n", (control & SE_DACL_PROTECTED) != 0 ? 1 : 0);
  if (dacl == nullptr) std::printf("null-dacl\n");  // everyone may do anything
  for (DWORD i = 0; dacl != nullptr && i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    if (!GetAce(dacl, i, &ace)) continue;
    const auto* header = static_cast<ACE_HEADER*>(ace);
    if (header->AceType == ACCESS_ALLOWED_ACE_TYPE) {
      auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
      std::printf("allow %s %08lx\n", sid_text(&allowed->SidStart).c_str(), allowed->Mask);
    } else {
      std::printf("ace-type %u\n", static_cast<unsigned>(header->AceType));
    }
  }
  LocalFree(descriptor);
  return 0;
}
