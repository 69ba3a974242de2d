#include "sinks/fd_output/fd_output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace procsentry {

FdOutput::FdOutput(int fd) : fd_(fd) {
  struct stat st {};
  flush_each_event_ = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
  buffer_.reserve(kBatchBytes * 2);
}

void FdOutput::end_event() {
  if (flush_each_event_ || buffer_.size() >= kBatchBytes) flush();
}

void FdOutput::flush() {
  std::size_t done = 0;
  while (done < buffer_.size() && !failed_) {
    // Windows' write() counts in unsigned int: at most 1 GiB per call, on both platforms.
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(buffer_.size() - done, 1u << 30));
    ssize_t n = ::write(fd_, buffer_.data() + done, chunk);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      failed_ = true;
      error_ = errno;  // EPIPE (reader gone), ENOSPC...: the caller stops or reports
    }
  }
  buffer_.clear();
}

}  // namespace procsentry
