// record's output: every event into the database (store/store_writer.h). Both clients.
#pragma once

#include <cstdio>

#include "app/outputs.h"

namespace procsentry {

// The database as an output when the command is record (--db, --keep, --max-size).
Result<bool> add_store(const AppOptions& options, OutputList& list, std::FILE* diagnostics);

}  // namespace procsentry
