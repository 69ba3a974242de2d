// What decides, after enrichment and the command line's filter, whether an event reaches the
// outputs, and tags it with the names of the rules it matched (--config rules: src/rules).
// The pipeline asks it on its one thread; implementations keep no state across events.
#pragma once

#include "core/event.h"

namespace procsentry {

class EventRules {
 public:
  virtual ~EventRules() = default;
  // Fills event.rules; false when the event is to be left out.
  virtual bool admit(Event& event) = 0;
};

}  // namespace procsentry
