// Ctrl-C (and SIGTERM on Linux) stops the source being run: the handler only calls
// Source::cancel(), which ends the source's wait; the run loop then drains and stops.
// One header, one implementation per platform (linux/, windows/).
#pragma once

#include "sources/source.h"

namespace procsentry {

// Early, before anything slow: a stop asked before a source is attached is kept. Linux also
// ignores SIGPIPE (the sinks see EPIPE instead).
void install_stop_handlers();
// From now on a stop cancels `source`, at once if one was already asked; nullptr detaches.
void stop_on_signals(Source* source);

}  // namespace procsentry
