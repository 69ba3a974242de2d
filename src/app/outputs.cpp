#include "app/outputs.h"

#include <fmt/core.h>
#include <unistd.h>

#include "sinks/fanout/live_outlet.h"
#include "sinks/file/rotating_file_outlet.h"
#include "sinks/json_lines/json_lines_sink.h"
#include "sinks/syslog/syslog_outlet.h"
#include "sinks/terminal/terminal_sink.h"
#include "store/event_query.h"
#include "store/store_outlet.h"

namespace procsentry {
namespace {

// The live view as a sink and as the text formatter a fanout's live output uses.
std::pair<std::unique_ptr<Sink>, TextFormatter*> make_live_view(const AppOptions& options) {
  if (options.json) {
    auto sink = std::make_unique<JsonLinesSink>(STDOUT_FILENO);
    TextFormatter* text = sink.get();
    return {std::move(sink), text};
  }
  bool color =
      options.color == ColorMode::always || (options.color == ColorMode::automatic && isatty(STDOUT_FILENO) == 1);
  auto sink = std::make_unique<TerminalSink>(STDOUT_FILENO, color, options.long_form);
  TextFormatter* text = sink.get();
  return {std::move(sink), text};
}

Result<RetentionOptions> retention_of(const AppOptions& options) {
  RetentionOptions retention;
  if (!options.keep.empty()) {
    auto keep = parse_duration(options.keep);
    if (!keep) return Error{"--keep: " + keep.error().message};
    retention.keep_ns = *keep;
  }
  if (!options.max_size.empty()) {
    auto size = parse_size(options.max_size);
    if (!size) return Error{"--max-size: " + size.error().message};
    retention.max_bytes = *size;
  }
  return retention;
}

}  // namespace

Result<Outputs> Outputs::open(const AppOptions& options, std::FILE* diagnostics) {
  Outputs outputs;
  TextFormatter* live_text = nullptr;
  std::tie(outputs.live_, live_text) = make_live_view(options);
  const bool recording = options.command == Command::record;
  if (!recording && options.syslog_url.empty() && options.output_file.empty()) return outputs;

  std::vector<std::unique_ptr<Outlet>> outlets;
  if (recording) {
    auto retention = retention_of(options);
    if (!retention) return retention.error();
    auto store = EventStore::open(options.db.empty() ? default_database_path() : options.db);
    if (!store) return store.error();
    outputs.store_ = std::move(*store);
    outlets.push_back(std::make_unique<StoreOutlet>(*outputs.store_, *retention, diagnostics));
  }
  if (!options.syslog_url.empty()) {
    auto target = parse_syslog_url(options.syslog_url);
    if (!target) return target.error();
    outlets.push_back(std::make_unique<SyslogOutlet>(*target, diagnostics));
  }
  if (!options.output_file.empty()) {
    RotationOptions rotation;
    rotation.keep_files = options.keep_files;
    auto size = parse_size(options.rotate);
    if (!size) return Error{"--rotate: " + size.error().message};
    rotation.max_bytes = *size;
    auto file = RotatingFileOutlet::open(options.output_file, rotation, diagnostics);
    if (!file) return file.error();
    outlets.push_back(std::move(*file));
  }
  // The live view: asked for with --print when recording, shown unless --quiet otherwise.
  const bool live = recording ? options.print : !options.quiet;
  if (live) outlets.push_back(std::make_unique<LiveOutlet>(STDOUT_FILENO));
  BacklogLimits limits;
  limits.wait_when_full = !options.replay.empty();
  outputs.fanout_ = std::make_unique<FanoutSink>(std::move(outlets), live ? live_text : nullptr, limits, diagnostics);
  return outputs;
}

void Outputs::finish(std::FILE* diagnostics) {
  if (!fanout_) {
    live_->flush();
    return;
  }
  fanout_->stop();
  for (const auto& output : fanout_->outputs()) {
    const SinkCounters c = output->counters();
    if (store_ && output.get() == fanout_->outputs().front().get()) {
      fmt::print(diagnostics, "procsentry: {} events recorded to {}\n", c.delivered - c.not_written, store_->path());
    }
    if (c.dropped != 0 || c.not_written != 0) {
      fmt::print(diagnostics, "procsentry: {}: {} events written, {} dropped while it was behind, {} not written\n",
                 output->name(), c.delivered - c.not_written, c.dropped, c.not_written);
    }
  }
}

}  // namespace procsentry
