// procsentry.exe: the Windows client. Same options, table and JSON as on Linux where they
// apply; reads the driver through \\.\procsentry, or a capture with --replay.
#include <fmt/core.h>
#include <windows.h>

#include <io.h>
#include <atomic>
#include <cstdio>
#include <string>

#include "app/options.h"
#include "app/outputs.h"
#include "app/pipeline.h"
#include "app/replay_run.h"
#include "app/summary.h"
#include "device_source.h"

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitCannotStart = 2;

std::atomic<bool> g_stop{false};
procsentry::DeviceSource* g_source = nullptr;

BOOL WINAPI on_console_control(DWORD) {
  g_stop = true;
  if (g_source != nullptr) g_source->cancel();  // ends the read that is waiting in the driver
  return TRUE;
}

// What the Windows client does not do (yet): the /proc-based tree, the event store, the
// outputs on their own threads and image hashing. Empty if none is asked for.
std::string linux_only_request(const procsentry::AppOptions& o) {
  using procsentry::Command;
  if (o.command == Command::tree) return "tree";
  if (o.command == Command::record) return "record";
  if (o.command == Command::query) return "query";
  if (!o.syslog_url.empty()) return "--syslog";
  if (!o.output_file.empty()) return "--output";
  if (o.hash) return "--hash";
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace procsentry;
  SetConsoleOutputCP(CP_UTF8);
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    fmt::print(stderr, "procsentry: {}\n", parsed.error().message);
    return kExitCannotStart;
  }
  if (parsed->exit_code >= 0) return parsed->exit_code;
  const AppOptions& options = parsed->options;
  if (auto request = linux_only_request(options); !request.empty()) {
    fmt::print(stderr, "procsentry: {} is not available in the Windows client yet (it is on Linux)\n", request);
    return kExitCannotStart;
  }

  Filter filter(options.filter);
  UserNames users;
  // Windows has no boot id we can read without privileges the client lacks; create times
  // are FILETIME (100 ns) and never repeat for one pid, so they make the identity.
  ProcessTable table(ProcessUidScheme("", 100), ProcessTableOptions{"", options.ancestry});
  Decoder decoder(ClockMapping::from_system());
  auto outputs = Outputs::open(options, stderr);
  if (!outputs) {
    fmt::print(stderr, "procsentry: {}\n", outputs.error().message);
    return kExitCannotStart;
  }
  Sink* sink = &outputs->sink();
  EventPipeline pipeline(decoder, Enrichment{table, users}, filter, *sink, stderr);

  if (!options.replay.empty()) {
    const int replayed = replay_file(options.replay, pipeline);
    outputs->finish(stderr);
    return replayed;
  }

  auto source = DeviceSource::open();
  if (!source) {
    fmt::print(stderr, "procsentry: {}\n", source.error().message);
    return kExitCannotStart;
  }
  g_source = source->get();
  SetConsoleCtrlHandler(on_console_control, TRUE);
  fmt::print(stderr, "procsentry: watching process creation and exit on this machine (Ctrl-C to stop)\n");
  int status = 0;
  while (!g_stop) {
    auto records = (*source)->read(pipeline);
    if (!records) {
      fmt::print(stderr, "procsentry: {}\n", records.error().message);
      status = kExitRuntimeError;
      break;
    }
    if (sink->failed()) break;
  }
  g_source = nullptr;
  print_summary(stderr, pipeline.stats(), SensorDrops{});
  outputs->finish(stderr);
  return status;
}
