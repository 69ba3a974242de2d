#pragma once

#include <cstdio>

#include "app/pipeline.h"
#include "sources/linux_bpf/ring_buffer_source.h"

namespace procsentry {

// One line on stop: events seen per kind, records lost, records that failed to decode.
void print_summary(std::FILE* out, const PipelineStats& stats, const SensorDrops& drops);

}  // namespace procsentry
