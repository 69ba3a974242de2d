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
