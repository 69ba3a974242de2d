// procsentry.exe: the Windows client. Same options, table and JSON as on Linux where they
// apply; reads the driver through \\.\procsentry, or a capture with --replay.
#include <fmt/core.h>
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <cstdio>
#include <memory>
#include <string>

#include "app/exit_status.h"
#include "app/options.h"
#include "app/outputs.h"
#include "app/pipeline.h"
#include "app/query_command.h"
#include "app/report_command.h"
#include "app/run_loop.h"
#include "device_source.h"
#include "hashing/image_hasher.h"
#include "platform/machine.h"
#include "platform/stop_signals.h"
#include "redact/redactor.h"
#include "service_control.h"
#include "sources/replay/replay_source.h"

namespace {

// What the Windows client does not do (yet): the /proc-based tree, saving a capture and
// metrics. Empty if none is asked for.
std::string linux_only_request(const procsentry::AppOptions& o) {
  using procsentry::Command;
  if (o.command == Command::tree) return "tree";
  if (!o.save_raw.empty()) return "--save-raw";
  if (!o.metrics.empty()) return "--metrics";
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace procsentry;
  SetConsoleOutputCP(CP_UTF8);
  if (is_service_command(argc, argv)) return run_service_command(argc, argv);
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    return report_error(parsed.error());
  }
  if (parsed->exit_code >= 0) return parsed->exit_code;
  const AppOptions& options = parsed->options;
  if (auto request = linux_only_request(options); !request.empty()) {
    fmt::print(stderr, "procsentry: {} is not available in the Windows client yet (it is on Linux)\n", request);
    return kExitCannotStart;
  }
  if (options.command == Command::query || options.command == Command::report) {
    // Bytes as stored, as on Linux: no CR added before each LF.
    _setmode(_fileno(stdout), _O_BINARY);
    return options.command == Command::query ? run_query_command(options) : run_report_command(options);
  }

  Filter filter(options.filter);
  UserNames users(user_database());
  ProcessTable table(process_uid_scheme(), ProcessTableOptions{nullptr, options.ancestry});
  Decoder decoder(boot_clock_mapping());
  auto outputs = Outputs::open(options, stderr);
  if (!outputs) {
    return report_error(outputs.error());
  }
  Sink* sink = &outputs->sink();
  std::unique_ptr<ImageHasher> hasher;  // --hash: each create's image, opened from its NT path
  if (options.hash) hasher = std::make_unique<ImageHasher>();
  EventPipeline pipeline(decoder, Enrichment{table, users, nullptr, hasher.get()}, filter, *sink, stderr);
  // As on Linux without a configuration file: the built-ins, unless --redact off.
  std::unique_ptr<Redactor> redactor;
  if (options.redact.value_or(true)) {
    auto compiled = Redactor::compile(RedactSettings{});
    if (!compiled) return report_error(compiled.error());
    redactor = std::move(*compiled);
    pipeline.use_redaction(redactor.get());
  }

  std::unique_ptr<Source> source;
  if (!options.replay.empty()) {
    auto replay = ReplaySource::open(options.replay);
    if (!replay) {
      return report_error(replay.error());
    }
    source = std::move(*replay);
    pipeline.expect_capture_header();
  } else {
    auto device = DeviceSource::open();
    if (!device) {
      return report_error(device.error());
    }
    source = std::move(*device);
    pipeline.use_origin(host_id(), boot_id());
    pipeline.use_heartbeat(std::chrono::seconds(options.heartbeat_s), outputs->drops_report());
    install_stop_handlers();  // Ctrl-C ends the read pended in the driver
    stop_on_signals(source.get());
    fmt::print(stderr, "procsentry: watching process creation and exit on this machine (Ctrl-C to stop)\n");
  }
  const int status = run_source(*source, pipeline, *sink, stderr);
  stop_on_signals(nullptr);
  outputs->finish(stderr);
  return status;
}
