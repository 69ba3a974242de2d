// One output whose writer fits the event thread (the live view alone): formatted and written
// there, event by event, with no thread or backlog in between (the fast path).
#pragma once

#include <cstdint>

#include "sinks/fd_output/fd_output.h"
#include "sinks/sink.h"
#include "sinks/writers/writer.h"

namespace procsentry {

class InlineSink final : public Sink {
 public:
  explicit InlineSink(Output output) : output_(std::move(output)), direct_(output_.writer->direct_output()) {}
  void write(const Event& event) override {
    ++written_;
    if (direct_ != nullptr) {
      output_.format->append(direct_->buffer(), event);
      direct_->end_event();
      return;
    }
    one_.clear();
    one_.add(*output_.format, event);
    output_.writer->write(one_, {});
  }
  void flush() override { output_.writer->flush(); }
  bool failed() const override { return output_.writer->dead(); }
  Writer& writer() { return *output_.writer; }
  const Writer& writer() const { return *output_.writer; }
  std::uint64_t written() const { return written_; }  // handed to the writer

 private:
  Output output_;
  FdOutput* direct_;    // the writer's buffer, when it offers it
  FormattedBatch one_;  // the event being written, its buffers reused (no direct_)
  std::uint64_t written_ = 0;
};

}  // namespace procsentry
