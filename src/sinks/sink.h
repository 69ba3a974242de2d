// A Sink consumes decoded events. Sinks are independent of the sensor that produced them.
#pragma once

#include <string>

#include "core/event.h"

namespace procsentry {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const Event& event) = 0;
  // Called after each batch of events the source delivered (e.g. one ring-buffer poll).
  virtual void flush() = 0;
  // True once the sink can no longer write (e.g. EPIPE: the reader of our pipe went away).
  virtual bool failed() const { return false; }
};

// A sink whose output is text, split from its I/O: appends what write() would print for the
// event (newline included), so the text can be written later on another thread.
class TextFormatter {
 public:
  virtual ~TextFormatter() = default;
  virtual void format_event(std::string& out, const Event& event) = 0;
};

}  // namespace procsentry
