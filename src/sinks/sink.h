// A Sink consumes decoded events: what the pipeline hands each event to. Outputs (app/outputs.h)
// give one: the live view alone on the event thread (InlineSink), or several outputs on their
// own threads (FanoutSink).
#pragma once

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

}  // namespace procsentry
