// procsentry query: read-only, no sensor (store/event_query.h). Both clients.
#pragma once

#include "app/options.h"

namespace procsentry {

// Prints the query's rows; returns the exit status (2: bad options, 1: the store cannot be read).
int run_query_command(const AppOptions& options);

}  // namespace procsentry
