#include <windows.h>

#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "platform/windows/error_text.h"
#include "platform/windows/private_acl.h"
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
      status = narrow_to_private(file, descriptor);
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
