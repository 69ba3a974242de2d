#pragma once

#include <cstdio>

#include "app/pipeline.h"
#include "sources/sensor_options.h"

namespace procsentry {

// One line on stop: events seen per kind, records lost, records that failed to decode.
void print_summary(std::FILE* out, const PipelineStats& stats, const SensorDrops& drops);

}  // namespace procsentry
