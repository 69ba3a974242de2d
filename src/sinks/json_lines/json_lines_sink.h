// JSON Lines: one object per event, stable keys (docs/json-schema.md), valid UTF-8 always.
#pragma once

#include "core/time_format.h"
#include "sinks/fd_output/fd_output.h"
#include "sinks/sink.h"

namespace procsentry {

class JsonLinesSink final : public Sink, public TextFormatter {
 public:
  explicit JsonLinesSink(int fd) : out_(fd) {}
  void write(const Event& event) override;
  void flush() override { out_.flush(); }
  bool failed() const override { return out_.failed(); }
  int error() const { return out_.error(); }

  // Appends the event's object (no newline): the formatting, apart from any I/O.
  void format(std::string& out, const Event& event);
  void format_event(std::string& out, const Event& event) override {
    format(out, event);
    out += '\n';
  }

 private:
  FdOutput out_;
  Rfc3339Formatter time_;
};

}  // namespace procsentry
