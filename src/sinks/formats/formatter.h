// A formatter turns an event into the bytes of one output's format (table, JSON Lines,
// RFC 5424, store row): pure, no I/O, run on the event thread while the event's views are
// alive. Writers (sinks/writers) take the bytes somewhere.
#pragma once

#include <string>

#include "core/event.h"

namespace procsentry {

class Formatter {
 public:
  virtual ~Formatter() = default;
  // Appends the event's bytes, with the record separator the format has (a newline for
  // lines; none for RFC 5424, which the writer frames).
  virtual void append(std::string& out, const Event& event) = 0;
};

}  // namespace procsentry
