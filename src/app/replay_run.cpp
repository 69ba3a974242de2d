#include "app/replay_run.h"

#include <fmt/core.h>

#include "app/summary.h"
#include "sources/replay/replay_source.h"

namespace procsentry {

int replay_file(const std::string& path, EventPipeline& pipeline) {
  auto replay = ReplaySource::open(path);
  if (!replay) {
    fmt::print(stderr, "procsentry: {}\n", replay.error().message);
    return 2;
  }
  pipeline.expect_capture_header();
  auto delivered = replay->deliver_all(pipeline);
  if (!delivered) fmt::print(stderr, "procsentry: {}\n", delivered.error().message);
  print_summary(stderr, pipeline.stats(), SensorDrops{});
  return delivered ? 0 : 1;
}

}  // namespace procsentry
