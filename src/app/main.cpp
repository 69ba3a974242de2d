// procsentry: attach the sensor, stream events to the chosen sink until Ctrl-C or SIGTERM.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <memory>

#include "app/options.h"
#include "app/pipeline.h"
#include "app/replay_run.h"
#include "app/signals.h"
#include "app/summary.h"
#include "core/clock.h"
#include "sinks/json_lines/json_lines_sink.h"
#include "sinks/terminal/terminal_sink.h"
#include "sources/linux_bpf/ring_buffer_source.h"

namespace {

// Exit statuses: 0 clean stop, 1 failure while running, 2 cannot start (usage, privileges, kernel).
constexpr int kExitRuntimeError = 1;
constexpr int kExitCannotStart = 2;
// Bounds delivery latency when the kernel side batches wakeups.
constexpr int kPollTimeoutMs = 50;

std::unique_ptr<procsentry::Sink> make_sink(const procsentry::AppOptions& options) {
  using namespace procsentry;
  if (options.json) return std::make_unique<JsonLinesSink>(STDOUT_FILENO);
  bool color =
      options.color == ColorMode::always || (options.color == ColorMode::automatic && isatty(STDOUT_FILENO) == 1);
  return std::make_unique<TerminalSink>(STDOUT_FILENO, color);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace procsentry;
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    fmt::print(stderr, "procsentry: {}\n", parsed.error().message);
    return kExitCannotStart;
  }
  if (parsed->exit_code >= 0) return parsed->exit_code;
  const AppOptions& options = parsed->options;

  install_stop_handlers();
  Filter filter(options.filter);
  UserNames users;
  auto sink = make_sink(options);
  std::unique_ptr<FdOutput> raw;
  if (!options.save_raw.empty()) {
    int fd = open(options.save_raw.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0) {  // command lines hold secrets: never world-readable
      fmt::print(stderr, "procsentry: cannot write {}: {}\n", options.save_raw, std::strerror(errno));
      return kExitCannotStart;
    }
    raw = std::make_unique<FdOutput>(fd);
  }

  if (!options.replay.empty()) {
    ProcessTable table;  // replayed records describe another time: no seeding from /proc
    Decoder decoder(ClockMapping::from_system());
    EventPipeline pipeline(decoder, table, users, filter, *sink, stderr);
    return replay_file(options.replay, pipeline);
  }

  auto source = RingBufferSource::open(options.sensor);
  if (!source) {
    fmt::print(stderr, "procsentry: {}\n", source.error().message);
    return kExitCannotStart;
  }
  ProcessTable table;
  table.seed_from_proc();
  Decoder decoder(ClockMapping::from_system());
  EventPipeline pipeline(decoder, table, users, filter, *sink, stderr);
  pipeline.save_raw_to(raw.get());

  fmt::print(stderr, "procsentry: watching exec, {}fork and exit on this machine (Ctrl-C to stop)\n",
             (*source)->reports_exec_failed() ? "exec_failed, " : "");
  int status = 0;
  while (!stop_requested()) {
    auto delivered = (*source)->poll(kPollTimeoutMs, pipeline);
    if (!delivered) {
      fmt::print(stderr, "procsentry: {}\n", delivered.error().message);
      status = kExitRuntimeError;
      break;
    }
    if (sink->failed()) break;  // e.g. the reader of our pipe went away
  }
  if (!sink->failed()) (void)(*source)->poll(0, pipeline);  // what arrived before the stop
  sink->flush();
  pipeline.on_batch_end();
  print_summary(stderr, pipeline.stats(), (*source)->drops());
  return status;
}
