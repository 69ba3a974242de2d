#include <fcntl.h>
#include <fmt/core.h>
#include <io.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sinks/writers/private_file.h"

namespace procsentry {

// A new file takes its directory's ACL: private to the owner under the user's profile (the
// default place), as the administrator chose elsewhere. Not inherited by child processes.
Result<OpenedFile> open_private_append(const std::string& path) {
  const int fd = _open(path.c_str(), _O_WRONLY | _O_CREAT | _O_APPEND | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
  if (fd < 0) return Error{fmt::format("cannot write {}: {} (use --output PATH)", path, std::strerror(errno))};
  const std::int64_t size = _lseeki64(fd, 0, SEEK_END);
  if (size < 0) {
    Error error{fmt::format("cannot write {}: {} (use --output PATH)", path, std::strerror(errno))};
    _close(fd);
    return error;
  }
  return OpenedFile{fd, size};
}

bool make_private(int) { return true; }  // the directory's ACL, as open_private_append says

long write_some(int fd, const char* data, std::size_t size) {
  return _write(fd, data, static_cast<unsigned>(size < INT_MAX ? size : INT_MAX));
}

bool truncate_file(int fd, std::int64_t size) { return _chsize_s(fd, size) == 0; }

void close_file(int fd) { _close(fd); }

}  // namespace procsentry
