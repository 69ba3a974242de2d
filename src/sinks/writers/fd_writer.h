// The live view's writer: bytes to a file descriptor (stdout), flushed after every event on
// a pipe, socket or terminal (`procsentry --json | jq` works live), in batches into a
// regular file (FdOutput).
#pragma once

#include "sinks/fd_output/fd_output.h"
#include "sinks/writers/writer.h"

namespace procsentry {

class FdWriter final : public Writer {
 public:
  explicit FdWriter(int fd) : out_(fd) {}
  std::string name() const override { return "the live view"; }
  void write(const FormattedBatch& events, std::stop_token) override {
    out_.buffer() += events.bytes;
    out_.end_event();
  }
  void flush() override { out_.flush(); }
  void flush_per_batch() { out_.flush_per_batch(); }    // see FdOutput
  bool dead() const override { return out_.failed(); }  // EPIPE: the reader went away
  bool fits_event_thread() const override { return true; }
  FdOutput* direct_output() override { return &out_; }
  int error() const { return out_.error(); }  // errno of the failed write

 private:
  FdOutput out_;
};

}  // namespace procsentry
