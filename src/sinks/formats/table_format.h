// The aligned human table. Everything shown from an event is escaped first.
#pragma once

#include "core/time_format.h"
#include "sinks/formats/formatter.h"

namespace procsentry {

class TableFormatter final : public Formatter {
 public:
  // long_form: each line also carries the event's identity and context as key=value pairs.
  explicit TableFormatter(bool color, bool long_form = false) : color_(color), long_form_(long_form) {}
  // The header line before the first event, then the event's line.
  void append(std::string& out, const Event& event) override;
  // One table line, without the header or a newline.
  void append_line(std::string& out, const Event& event);
  static constexpr std::size_t kImageWidth = 40;

 private:
  void append_context(std::string& out, const Event& event);
  void append_heartbeat(std::string& out, const Event& event);

  bool color_;
  bool long_form_;
  bool header_written_ = false;
  LocalClockFormatter clock_;
  std::string cell_;  // reused scratch for one escaped cell
};

}  // namespace procsentry
