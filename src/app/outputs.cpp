#include "app/outputs.h"

#include <fmt/core.h>
#include <unistd.h>

#include "core/quantities.h"
#include "platform/machine.h"
#include "sinks/formats/json_format.h"
#include "sinks/formats/table_format.h"
#include "sinks/writers/fd_writer.h"
#include "sinks/writers/rotating_file.h"

namespace procsentry {
namespace {

// --output FILE: JSON Lines into a rotated file.
Result<bool> add_output_file(const AppOptions& options, OutputList& list, std::FILE* diagnostics) {
  if (options.output_file.empty()) return false;
  RotationOptions rotation;
  rotation.keep_files = options.keep_files;
  auto size = parse_size(options.rotate);
  if (!size) return Error{"--rotate: " + size.error().message};
  rotation.max_bytes = *size;
  auto file = RotatingFileWriter::open(options.output_file, rotation, diagnostics);
  if (!file) return file.error();
  list.add(list.json_lines(), std::move(*file));
  return true;
}

// The live view on stdout, table or JSON Lines: asked for with --print when recording,
// shown unless --quiet otherwise.
Result<bool> add_live_view(const AppOptions& options, OutputList& list, std::FILE*) {
  if (options.command == Command::record ? !options.print : options.quiet) return false;
  std::shared_ptr<Formatter> format;
  if (options.json) {
    format = list.json_lines();
  } else {
    const bool color =
        options.color == ColorMode::always || (options.color == ColorMode::automatic && isatty(STDOUT_FILENO) == 1);
    format = std::make_shared<TableFormatter>(color, options.long_form);
  }
  // Whoever runs it flushes after each batch (the pipeline after each poll, a writer thread
  // after each delivery): one write per batch, not per event.
  auto writer = std::make_unique<FdWriter>(STDOUT_FILENO);
  writer->flush_per_batch();
  list.add(std::move(format), std::move(writer));
  return true;
}

constexpr AddOutput kPortableOutputs[] = {add_output_file, add_live_view};

}  // namespace

OutputList::OutputList(const AppOptions& options) : format_(options.format) {
  if (format_ != EventFormat::native) source_ = EventSource{host_name(), windows_client()};
}

std::shared_ptr<Formatter> OutputList::json_lines() {
  if (!json_lines_) json_lines_ = json_object();
  return json_lines_;
}

Result<Outputs> Outputs::open(const AppOptions& options, std::FILE* diagnostics) {
  OutputList list(options);
  for (const auto adders : {platform_outputs(), std::span<const AddOutput>(kPortableOutputs)}) {
    for (AddOutput add : adders) {
      if (auto added = add(options, list, diagnostics); !added) return added.error();
    }
  }
  Outputs outputs;
  std::vector<Output>& all = list.outputs();
  if (all.empty()) return Error{"--quiet leaves no output: add --output FILE, --syslog URL or --kafka BROKERS"};
  if (all.size() == 1 && all.front().writer->fits_event_thread()) {
    auto sink = std::make_unique<InlineSink>(std::move(all.front()));
    outputs.inline_ = sink.get();
    outputs.sink_ = std::move(sink);
    return outputs;
  }
  BacklogLimits limits;
  limits.events = options.output_backlog;
  limits.wait_when_full = !options.replay.empty();  // replay has no kernel to keep up with
  auto fanout = std::make_unique<FanoutSink>(std::move(all), limits, diagnostics);
  outputs.fanout_ = fanout.get();
  outputs.sink_ = std::move(fanout);
  return outputs;
}

void Outputs::finish(std::FILE* diagnostics) {
  sink_->flush();
  if (fanout_ == nullptr) return;
  fanout_->stop();
  for (const auto& output : fanout_->outputs()) {
    if (const std::string line = output->summary(); !line.empty()) fmt::print(diagnostics, "procsentry: {}\n", line);
    const WriterCounters c = output->counters();
    if (c.dropped != 0 || c.not_written != 0) {
      fmt::print(diagnostics, "procsentry: {}: {} events written, {} dropped while it was behind, {} not written\n",
                 output->name(), c.delivered - c.not_written, c.dropped, c.not_written);
    }
  }
}

std::function<void(std::vector<HeartbeatCounts::OutputDrops>&)> Outputs::drops_report() const {
  return [this, metrics = std::vector<OutputMetrics>()](std::vector<HeartbeatCounts::OutputDrops>& into) mutable {
    report(metrics);
    into.resize(metrics.size());
    for (std::size_t i = 0; i < metrics.size(); ++i) into[i] = {metrics[i].name, metrics[i].dropped};
  };
}

void Outputs::report(std::vector<OutputMetrics>& into) const {
  into.clear();
  if (inline_ != nullptr) {
    const Writer& writer = inline_->writer();
    into.push_back(OutputMetrics{writer.name(), inline_->written(), 0, writer.not_written(), 0, writer.dead(),
                                 writer.reachable()});
    return;
  }
  if (fanout_ == nullptr) return;
  for (const auto& output : fanout_->outputs()) {
    const WriterCounters c = output->counters();
    into.push_back(OutputMetrics{output->name(), c.delivered, c.dropped, c.not_written, c.backlog, output->dead(),
                                 output->reachable()});
  }
}

}  // namespace procsentry
