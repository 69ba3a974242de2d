#include "store/query_output.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace procsentry {

QueryOutput::QueryOutput(int fd) : fd_(fd), each_row_(isatty(fd) == 1) { buffer_.reserve(kBatchBytes * 2); }

QueryOutput::QueryOutput(std::string& text) : text_(&text) {}

void QueryOutput::end_row() {
  if (each_row_ || buffer_.size() >= kBatchBytes) {
    flush();
  } else if (first_pending_ == std::chrono::steady_clock::time_point{}) {
    first_pending_ = std::chrono::steady_clock::now();
  }
}

bool QueryOutput::pending_too_long() const {
  return !buffer_.empty() && first_pending_ != std::chrono::steady_clock::time_point{} &&
         std::chrono::steady_clock::now() - first_pending_ >= kMaxDelay;
}

void QueryOutput::flush() {
  first_pending_ = {};
  if (text_ != nullptr) {
    *text_ += buffer_;
    buffer_.clear();
    return;
  }
  std::size_t done = 0;
  while (done < buffer_.size() && !failed_) {
    // Windows' write() counts in unsigned int: at most 1 GiB per call, on both platforms.
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(buffer_.size() - done, 1u << 30));
    ssize_t n = ::write(fd_, buffer_.data() + done, chunk);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      failed_ = true;
      error_ = errno;  // EPIPE (the reader went away, SIGPIPE ignored), ENOSPC...
    }
  }
  buffer_.clear();
}

}  // namespace procsentry
