#include "sinks/writers/rotating_file.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sinks/writers/private_file.h"

namespace procsentry {

Result<std::unique_ptr<RotatingFileWriter>> RotatingFileWriter::open(const std::string& path, RotationOptions rotation,
                                                                     std::FILE* diagnostics) {
  std::unique_ptr<RotatingFileWriter> writer(new RotatingFileWriter(path, rotation, diagnostics));
  if (auto r = writer->open_current(); !r) return r.error();
  return writer;
}

RotatingFileWriter::~RotatingFileWriter() {
  if (fd_ >= 0) close_file(fd_);
}

Result<bool> RotatingFileWriter::open_current() {
  auto file = open_private_append(path_);
  if (!file) return file.error();
  fd_ = file->fd;
  size_ = file->size;
  return true;
}

Result<bool> RotatingFileWriter::rotate() {
  close_file(fd_);
  fd_ = -1;
  auto numbered = [&](int n) { return fmt::format("{}.{}", path_, n); };
  if (rotation_.keep_files <= 0) {
    std::remove(path_.c_str());
  } else {
    std::remove(numbered(rotation_.keep_files).c_str());
    for (int n = rotation_.keep_files - 1; n >= 1; --n) std::rename(numbered(n).c_str(), numbered(n + 1).c_str());
    if (std::rename(path_.c_str(), numbered(1).c_str()) != 0 && errno != ENOENT) {
      return Error{fmt::format("cannot rotate {}: {}", path_, std::strerror(errno))};
    }
  }
  return open_current();
}

void RotatingFileWriter::write(const FormattedBatch& events, std::stop_token) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string_view e = events[i];
    const auto pending = static_cast<std::int64_t>(pending_.size());
    const auto line = static_cast<std::int64_t>(e.size());
    if (rotation_.max_bytes > 0 && size_ + pending > 0 && size_ + pending + line > rotation_.max_bytes) {
      write_pending();
      if (fd_ >= 0) {
        if (auto r = rotate(); !r) report_failure(r.error().message, 0);  // the next write reopens FILE
      }
    }
    pending_ += e;
    line_ends_.push_back(pending_.size());
  }
  write_pending();
}

void RotatingFileWriter::write_pending() {
  if (pending_.empty()) return;
  std::string why;
  if (fd_ < 0) {
    if (auto r = open_current(); !r) why = r.error().message;
  }
  std::size_t done = 0;
  while (fd_ >= 0 && done < pending_.size()) {
    const long n = write_some(fd_, pending_.data() + done, pending_.size() - done);
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
    if (fd_ >= 0 && !truncate_file(fd_, size_ + static_cast<std::int64_t>(whole))) {
      close_file(fd_);  // reopened, and its size read again, at the next write
      fd_ = -1;
    }
    size_ += static_cast<std::int64_t>(whole);
    report_failure(why, line_ends_.size() - kept);
  }
  pending_.clear();
  line_ends_.clear();
}

void RotatingFileWriter::report_failure(const std::string& why, std::size_t lost) {
  if (!failing_) {
    failing_ = true;
    not_written_at_outage_ = not_written_;
    fmt::print(diagnostics_, "procsentry: {} (the other outputs continue; writing resumes when it can)\n", why);
  }
  not_written_ += lost;
}

}  // namespace procsentry
