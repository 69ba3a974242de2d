// Where an invocation's events go. The live view alone writes on the event thread (a slow
// reader then slows the draining of the kernel's ring buffer, whose drops arrive as `lost`
// events). With the database (record), --syslog or --output, every output, the live view
// included, runs on its own thread behind a FanoutSink, so none can hold up another.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "app/options.h"
#include "core/result.h"
#include "sinks/fanout/fanout_sink.h"
#include "sinks/sink.h"
#include "store/event_store.h"

namespace procsentry {

class Outputs {
 public:
  // One line of error if an output cannot start (bad URL, unwritable file, database).
  static Result<Outputs> open(const AppOptions& options, std::FILE* diagnostics);
  Sink& sink() { return fanout_ ? static_cast<Sink&>(*fanout_) : *live_; }
  // Flushes, lets every output deliver what it holds, and reports: the recording's line,
  // and for each output that lost events, how many and why.
  void finish(std::FILE* diagnostics);

 private:
  std::unique_ptr<Sink> live_;  // the live view (with a fanout: only its formatter)
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<FanoutSink> fanout_;
};

}  // namespace procsentry
