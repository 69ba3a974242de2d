// Buffered output to a file descriptor with the flush policy live streaming needs: after
// every event on a pipe, socket or terminal (`procsentry --json | jq` works live), in
// batches into a regular file.
#pragma once

#include <string>

namespace procsentry {

class FdOutput {
 public:
  explicit FdOutput(int fd);

  std::string& buffer() { return buffer_; }
  void end_event();  // flushes if the policy says so
  // Writes only at flush() (or past 64 KiB), also on a pipe or terminal: for a caller that
  // flushes after each batch of events, as the pipeline does after each ring-buffer poll.
  void flush_per_batch() { flush_each_event_ = false; }
  void flush();
  bool failed() const { return failed_; }
  int error() const { return error_; }  // errno of the failed write

 private:
  static constexpr std::size_t kBatchBytes = 64 * 1024;
  int fd_;
  bool flush_each_event_;
  bool failed_ = false;
  int error_ = 0;
  std::string buffer_;
};

}  // namespace procsentry
