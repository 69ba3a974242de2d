// The aligned human table. Everything shown from an event is escaped first.
#pragma once

#include "core/time_format.h"
#include "sinks/fd_output/fd_output.h"
#include "sinks/sink.h"

namespace procsentry {

class TerminalSink final : public Sink, public TextFormatter {
 public:
  // long_form: each line also carries the event's identity and context as key=value pairs.
  TerminalSink(int fd, bool color, bool long_form = false) : out_(fd), color_(color), long_form_(long_form) {}
  void write(const Event& event) override;
  void flush() override { out_.flush(); }
  bool failed() const override { return out_.failed(); }

  // Appends one table line (no newline); the header line comes before the first event.
  void format(std::string& out, const Event& event);
  // The header line before the first event, then the event's line(s).
  void format_event(std::string& out, const Event& event) override;
  static constexpr std::size_t kImageWidth = 40;

 private:
  FdOutput out_;
  void append_context(std::string& out, const Event& event);

  bool color_;
  bool long_form_;
  bool header_written_ = false;
  LocalClockFormatter clock_;
  std::string cell_;  // reused scratch for one escaped cell
};

}  // namespace procsentry
