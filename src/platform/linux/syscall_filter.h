// The optional seccomp allow-list (--seccomp), installed once the monitor runs: only the system
// calls its steady state makes (reading the ring buffer, /proc and images, writing its outputs,
// talking to syslog and systemd) are allowed. Any other kills the whole process with SIGSYS:
// a monitor that makes an unexpected call is broken or subverted, and systemd restarts it
// (Restart=on-failure) with the signal in its journal.
#pragma once

#include "core/result.h"

namespace procsentry {

// Installs the filter on every thread of the process (seccomp's TSYNC).
Result<Ok> install_syscall_allow_list();

}  // namespace procsentry
