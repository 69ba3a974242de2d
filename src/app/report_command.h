// procsentry report: read-only, no sensor (store/event_report.h).
#pragma once

#include "app/options.h"

namespace procsentry {

// Prints the report; returns the exit status (2: bad options, 1: the store cannot be read).
int run_report_command(const AppOptions& options);

}  // namespace procsentry
