// The few file calls the rotating file needs, per platform (private_file_posix.cpp,
// private_file_windows.cpp): command lines hold secrets, so what we create is private.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace procsentry {

// Opens `path` for appending, creating it readable by its owner only (POSIX: mode 0600;
// Windows: a protected DACL for the user, Administrators and SYSTEM), also narrowing an older
// file of ours. Returns the descriptor and the file's size.
struct OpenedFile {
  int fd = -1;
  std::int64_t size = 0;
};
Result<OpenedFile> open_private_append(const std::string& path);
// Narrows an open file of ours to its owner (POSIX: 0600). Only a regular file: a device, FIFO
// or socket (`--output /dev/null`) is shared with the rest of the system and left as it is.
// false (POSIX: with errno set) when it cannot.
bool make_private(int fd);
// Bytes written (> 0), or -1 with errno set (EINTR: try again).
long write_some(int fd, const char* data, std::size_t size);
bool truncate_file(int fd, std::int64_t size);
void close_file(int fd);

}  // namespace procsentry
