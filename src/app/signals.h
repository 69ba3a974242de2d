// Ctrl-C and SIGTERM ask the main loop to stop; the handler only sets a flag.
#pragma once

namespace procsentry {

void install_stop_handlers();  // SIGINT, SIGTERM -> stop; SIGPIPE ignored (sinks see EPIPE)
bool stop_requested();

}  // namespace procsentry
