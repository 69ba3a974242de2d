#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "store/store_file.h"

namespace procsentry {

std::string default_database_path() {
  if (geteuid() == 0) return "/var/lib/procsentry/events.db";
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state != '\0') {
    return std::string(state) + "/procsentry/events.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/state/procsentry/events.db";
}

Result<Ok> create_private_store(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{fmt::format("cannot open the database {}: {} (use --db PATH)", path, std::strerror(errno))};
  }
  struct stat st {};
  bool owned = fstat(fd, &st) == 0 && st.st_uid == geteuid();
  if (owned) (void)fchmod(fd, 0600);
  ::close(fd);
  return Ok{};
}

}  // namespace procsentry
