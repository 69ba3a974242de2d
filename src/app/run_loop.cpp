#include "app/run_loop.h"

#include <fmt/core.h>

#include "app/exit_status.h"
#include "app/summary.h"

namespace procsentry {
namespace {
// Bounds delivery latency when the kernel side batches wakeups.
constexpr int kPollTimeoutMs = 50;
}  // namespace

int run_source(Source& source, EventPipeline& pipeline, const Sink& sink, std::FILE* diagnostics,
               const BetweenPolls& between_polls) {
  int status = 0;
  while (!source.done()) {
    auto delivered = source.poll(kPollTimeoutMs, pipeline);
    if (!delivered) {
      fmt::print(diagnostics, "procsentry: {}\n", delivered.error().message);
      status = kExitRuntimeError;
      break;
    }
    pipeline.on_idle();
    if (sink.failed()) break;
    for (const auto& callback : between_polls) callback();
  }
  if (!sink.failed()) (void)source.poll(0, pipeline);  // what arrived before the stop
  pipeline.on_end();
  pipeline.on_batch_end();
  print_summary(diagnostics, pipeline.stats(), source.drops());
  return status;
}

}  // namespace procsentry
