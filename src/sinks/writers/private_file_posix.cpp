#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sinks/writers/private_file.h"

namespace procsentry {

Result<OpenedFile> open_private_append(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    Error error{fmt::format("cannot write {}: {} (use --output PATH)", path, std::strerror(errno))};
    if (fd >= 0) ::close(fd);
    return error;
  }
  // Whatever the umask or an older file: never readable by others.
  if (!make_private(fd)) {
    Error error{fmt::format("cannot make {} private (mode 0600): {}", path, std::strerror(errno))};
    ::close(fd);
    return error;
  }
  return OpenedFile{fd, st.st_size};
}

bool make_private(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0777) == 0600) return true;
  return fchmod(fd, 0600) == 0;
}

long write_some(int fd, const char* data, std::size_t size) { return ::write(fd, data, size); }

bool truncate_file(int fd, std::int64_t size) { return ftruncate(fd, static_cast<off_t>(size)) == 0; }

void close_file(int fd) { ::close(fd); }

}  // namespace procsentry
