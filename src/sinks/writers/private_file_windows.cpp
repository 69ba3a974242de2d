#include <fcntl.h>
#include <fmt/core.h>
#include <io.h>
#include <windows.h>

#include <climits>

#include "platform/windows/error_text.h"
#include "platform/windows/private_acl.h"
#include "sinks/writers/private_file.h"

namespace procsentry {
namespace {

constexpr DWORD kShare = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
constexpr DWORD kAccess = FILE_GENERIC_WRITE | FILE_READ_ATTRIBUTES;

Error cannot_write(const std::string& path, const std::string& why) {
  return Error{fmt::format("cannot write {}: {} (use --output PATH)", path, why)};
}

// A regular file on a volume: a device (NUL, CON, a pipe) is shared with the system and kept as it is.
bool regular_file(HANDLE file) { return GetFileType(file) == FILE_TYPE_DISK; }

}  // namespace

// Created with the private DACL (the user, Administrators, SYSTEM; nothing from the directory);
// a file of ours already there is narrowed to it, another's (whose DACL we may not change) is
// appended to as it is, as POSIX leaves another's mode. Not inherited by child processes.
Result<OpenedFile> open_private_append(const std::string& path) {
  auto descriptor = private_descriptor();
  if (!descriptor) return cannot_write(path, descriptor.error().message);
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), descriptor->get(), FALSE};
  HANDLE file = CreateFileA(path.c_str(), kAccess | READ_CONTROL | WRITE_DAC, kShare, &attributes, OPEN_ALWAYS,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file != INVALID_HANDLE_VALUE && GetLastError() == ERROR_ALREADY_EXISTS && regular_file(file)) {
    if (const DWORD status = narrow_to_private(file, descriptor->get()); status != ERROR_SUCCESS) {
      CloseHandle(file);
      return cannot_write(path, "cannot make it private: " + windows_error_text(status));
    }
  }
  if (file == INVALID_HANDLE_VALUE && GetLastError() == ERROR_ACCESS_DENIED) {
    // Perhaps only the DACL is out of reach (another's file, a device): written as it is.
    file = CreateFileA(path.c_str(), kAccess, kShare, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  }
  if (file == INVALID_HANDLE_VALUE) return cannot_write(path, windows_error_text(GetLastError()));
  const int fd = _open_osfhandle(reinterpret_cast<intptr_t>(file), _O_WRONLY | _O_APPEND | _O_BINARY);
  if (fd < 0) {
    CloseHandle(file);
    return cannot_write(path, "no descriptor for it");
  }
  const std::int64_t size = _lseeki64(fd, 0, SEEK_END);
  if (size < 0) {
    Error error = cannot_write(path, windows_error_text(GetLastError()));
    _close(fd);
    return error;
  }
  return OpenedFile{fd, size};
}

bool make_private(int fd) {
  const auto file = reinterpret_cast<HANDLE>(_get_osfhandle(fd));
  if (file == INVALID_HANDLE_VALUE || !regular_file(file)) return true;
  auto descriptor = private_descriptor();
  return descriptor && narrow_to_private(file, descriptor->get()) == ERROR_SUCCESS;
}

long write_some(int fd, const char* data, std::size_t size) {
  return _write(fd, data, static_cast<unsigned>(size < INT_MAX ? size : INT_MAX));
}

bool truncate_file(int fd, std::int64_t size) { return _chsize_s(fd, size) == 0; }

void close_file(int fd) { _close(fd); }

}  // namespace procsentry
