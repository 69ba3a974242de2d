// The one loop every client runs, whatever the source (BPF ring buffer, Windows device,
// capture file).
#pragma once

#include <cstdio>
#include <functional>
#include <vector>

#include "app/pipeline.h"
#include "sinks/sink.h"
#include "sources/source.h"

namespace procsentry {

// What else the client does between two polls (at least every 50 ms), on the loop's thread:
// the unit's status and watchdog, and whatever else must run beside the stream. Each callback
// returns quickly: events wait meanwhile.
using BetweenPolls = std::vector<std::function<void()>>;

// Delivers records until the source is done (a stop, the end of a capture), fails, or the
// sink failed (the reader of our pipe went away); between polls the pipeline writes what the
// hasher finished. Then what arrived before the stop, the hashes still pending, and the
// summary line. Returns the exit status: 0, or 1 when the source failed (its error is one line
// on `diagnostics`).
int run_source(Source& source, EventPipeline& pipeline, const Sink& sink, std::FILE* diagnostics,
               const BetweenPolls& between_polls = {});

}  // namespace procsentry
