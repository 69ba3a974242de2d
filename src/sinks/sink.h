// A Sink consumes decoded events. Sinks are independent of the sensor that produced them.
#pragma once

#include "core/event.h"

namespace procsentry {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const Event& event) = 0;
  // Called after each batch of events the source delivered (e.g. one ring-buffer poll).
  virtual void flush() = 0;
};

}  // namespace procsentry
