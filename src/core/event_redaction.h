// What masks the secrets in an event's command lines before any output sees it (src/redact:
// `redact:` of the configuration, on by default). The pipeline asks it on its one thread,
// after the rules admitted the event; the masked text lives in the implementation's buffers
// until its next call, as long as the event's views need it.
#pragma once

#include "core/event.h"

namespace procsentry {

class EventRedaction {
 public:
  virtual ~EventRedaction() = default;
  // Masks argv, parent_argv and command_line in place; sets event.argv_redacted and returns it.
  virtual bool redact(Event& event) = 0;
};

}  // namespace procsentry
