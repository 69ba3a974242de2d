#pragma once

#include <string>

#include "app/pipeline.h"

namespace procsentry {

// --replay: every record of the file through the pipeline, then the summary. Returns the exit
// status (0 ok, 1 the file ended in a partial record, 2 it cannot be read). Both clients use it.
int replay_file(const std::string& path, EventPipeline& pipeline);

}  // namespace procsentry
