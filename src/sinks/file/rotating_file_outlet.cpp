#include "sinks/file/rotating_file_outlet.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace procsentry {

Result<std::unique_ptr<RotatingFileOutlet>> RotatingFileOutlet::open(const std::string& path, RotationOptions rotation,
                                                                     std::FILE* diagnostics) {
  std::unique_ptr<RotatingFileOutlet> outlet(new RotatingFileOutlet(path, rotation, diagnostics));
  if (auto r = outlet->open_current(); !r) return r.error();
  return outlet;
}

RotatingFileOutlet::~RotatingFileOutlet() {
  if (fd_ >= 0) ::close(fd_);
}

Result<bool> RotatingFileOutlet::open_current() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st {};
  if (fd_ < 0 || fstat(fd_, &st) != 0) {
    return Error{fmt::format("cannot write {}: {} (use --output PATH)", path_, std::strerror(errno))};
  }
  // Command lines hold secrets: never readable by others, whatever the umask or an older file.
  if (st.st_uid == geteuid() && (st.st_mode & 0777) != 0600 && fchmod(fd_, 0600) != 0) {
    return Error{fmt::format("cannot make {} private (mode 0600): {}", path_, std::strerror(errno))};
  }
  size_ = st.st_size;
  return true;
}

Result<bool> RotatingFileOutlet::rotate() {
  ::close(fd_);
  fd_ = -1;
  auto numbered = [&](int n) { return fmt::format("{}.{}", path_, n); };
  if (rotation_.keep_files <= 0) {
    ::unlink(path_.c_str());
  } else {
    ::unlink(numbered(rotation_.keep_files).c_str());
    for (int n = rotation_.keep_files - 1; n >= 1; --n) ::rename(numbered(n).c_str(), numbered(n + 1).c_str());
    if (::rename(path_.c_str(), numbered(1).c_str()) != 0 && errno != ENOENT) {
      return Error{fmt::format("cannot rotate {}: {}", path_, std::strerror(errno))};
    }
  }
  return open_current();
}

void RotatingFileOutlet::deliver(std::span<const EventSnapshot> events, std::stop_token) {
  for (const auto& e : events) {
    const auto pending = static_cast<std::int64_t>(pending_.size());
    const auto line = static_cast<std::int64_t>(e.json.size() + 1);
    if (rotation_.max_bytes > 0 && size_ + pending > 0 && size_ + pending + line > rotation_.max_bytes) {
      write_pending();
      if (fd_ >= 0) {
        if (auto r = rotate(); !r) report_failure(r.error().message, 0);  // the next write reopens FILE
      }
    }
    pending_ += e.json;
    pending_ += '\n';
    line_ends_.push_back(pending_.size());
  }
  write_pending();
}

void RotatingFileOutlet::write_pending() {
  if (pending_.empty()) return;
  std::string why;
  if (fd_ < 0) {
    if (auto r = open_current(); !r) {
      why = r.error().message;
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
    }
  }
  std::size_t done = 0;
  while (fd_ >= 0 && done < pending_.size()) {
    ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      why = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
      break;
    }
  }
  if (done == pending_.size()) {
    size_ += static_cast<std::int64_t>(done);
    if (failing_) {
      failing_ = false;
      fmt::print(diagnostics_, "procsentry: writing to {} resumed ({} events were not written)\n", path_,
                 not_written_ - not_written_at_outage_);
    }
  } else {
    // Keep the file whole lines only: cut the torn last line, count the lines that did not fit.
    std::size_t whole = 0, kept = 0;
    for (std::size_t end : line_ends_) {
      if (end > done) break;
      whole = end;
      ++kept;
    }
    if (fd_ >= 0 && ftruncate(fd_, size_ + static_cast<off_t>(whole)) != 0) {
      ::close(fd_);  // reopened, and its size read again, at the next write
      fd_ = -1;
    }
    size_ += static_cast<std::int64_t>(whole);
    report_failure(why, line_ends_.size() - kept);
  }
  pending_.clear();
  line_ends_.clear();
}

void RotatingFileOutlet::report_failure(const std::string& why, std::size_t lost) {
  if (!failing_) {
    failing_ = true;
    not_written_at_outage_ = not_written_;
    fmt::print(diagnostics_, "procsentry: {} (the other outputs continue; writing resumes when it can)\n", why);
  }
  not_written_ += lost;
}

}  // namespace procsentry
