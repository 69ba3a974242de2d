// procsentry: attach the sensor, stream events to the chosen sink until Ctrl-C or SIGTERM.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/exit_status.h"
#include "app/least_privilege.h"
#include "app/metrics_publisher.h"
#include "app/options.h"
#include "app/outputs.h"
#include "app/pipeline.h"
#include "app/query_command.h"
#include "app/report_command.h"
#include "app/run_loop.h"
#include "app/service_status.h"
#include "app/tree_view.h"
#include "config/config_file.h"
#include "core/capture_header.h"
#include "core/clock.h"
#include "hashing/image_hasher.h"
#include "metrics/metrics_server.h"
#include "platform/linux/cgroup_paths.h"
#include "platform/linux/proc_processes.h"
#include "platform/linux/reload_signal.h"
#include "platform/linux/syscall_filter.h"
#include "platform/machine.h"
#include "platform/stop_signals.h"
#include "procsentry/wire/wire.h"
#include "redact/reloadable_redaction.h"
#include "rules/reloadable_rules.h"
#include "sinks/writers/private_file.h"
#include "sources/linux_bpf/ring_buffer_source.h"
#include "sources/replay/replay_source.h"
#include "verify/verify_command.h"

namespace {

using procsentry::kExitCannotStart;
using procsentry::kExitRuntimeError;
using procsentry::report_error;

// For the one-shot commands: all their output at once; exit status 1 if it cannot be written.
int write_stdout(std::string text) {
  procsentry::FdOutput output(STDOUT_FILENO);
  output.buffer() = std::move(text);
  output.flush();
  return output.failed() ? kExitRuntimeError : 0;
}

// procsentry tree: needs no sensor, only /proc; argv masked as the live stream's.
int print_tree(const procsentry::AppOptions& options) {
  using namespace procsentry;
  auto redaction = ReloadableRedaction::open(options.config_path, options.redact);
  if (!redaction) return report_error(redaction.error());
  ArgvRedaction redact;
  if (Redactor* r = (*redaction)->current()) {
    redact = [r](std::string_view argv, std::string& out) { return r->redact_argv(argv, out); };
  }
  ProcProcesses proc;
  ProcessTable table(process_uid_scheme(), ProcessTableOptions{&proc, false});
  table.seed_from_os();
  UserNames users(user_database());
  std::string out;
  auto shown = render_tree(table, users, options.tree_pid, options.json, out, redact);
  if (!shown) {
    return report_error(shown.error(), kExitRuntimeError);
  }
  return write_stdout(std::move(out));
}

// The configuration's rules and redaction, read again together on SIGHUP; no rules without a
// configuration file, the built-in redaction unless --redact off.
struct ConfiguredRules {
  std::unique_ptr<procsentry::ReloadableRules> rules;
  std::unique_ptr<procsentry::ReloadableRedaction> redaction;
  // For run_source: a SIGHUP's reload happens between polls, on the event thread.
  procsentry::BetweenPolls between_polls() {
    if (!rules) return {};
    return {[this] {
      if (procsentry::take_reload_request()) reload();
    }};
  }
  // Both or neither: a file either half of which no longer reads leaves both in force.
  void reload() {
    auto next = redaction->read();
    if (!next) {
      fmt::print(stderr, "procsentry: {} (reload refused: the rules and redaction in force stay)\n",
                 next.error().message);
      std::fflush(stderr);
      return;
    }
    if (rules->reload(stderr)) redaction->use(std::move(*next));
  }
};

procsentry::Result<ConfiguredRules> open_rules(const procsentry::AppOptions& options, procsentry::ProcessTable& table,
                                               procsentry::EventPipeline& pipeline) {
  ConfiguredRules configured;
  auto redaction = procsentry::ReloadableRedaction::open(options.config_path, options.redact);
  if (!redaction) return redaction.error();
  configured.redaction = std::move(*redaction);
  pipeline.use_redaction(configured.redaction.get());
  if (options.config_path.empty()) return configured;
  auto rules = procsentry::ReloadableRules::open(options.config_path, table);
  if (!rules) return rules.error();
  configured.rules = std::move(*rules);
  pipeline.use_rules(configured.rules.get());
  procsentry::reload_on_sighup();
  return configured;
}

// --replay: records captured earlier (perhaps elsewhere), no sensor, no /proc.
int replay_capture(const procsentry::AppOptions& options, procsentry::Filter& filter, procsentry::UserNames& users) {
  using namespace procsentry;
  auto outputs = Outputs::open(options, stderr);
  if (!outputs) {
    return report_error(outputs.error());
  }
  Sink* sink = &outputs->sink();
  auto replay = ReplaySource::open(options.replay);
  if (!replay) {
    return report_error(replay.error());
  }
  stop_on_signals(replay->get());
  // Replayed records describe another time, perhaps another machine: no /proc; the boot id
  // and clock come from the capture's header records (core/capture_header.h).
  ProcessTable table(ProcessUidScheme("", 10'000'000), ProcessTableOptions{nullptr, options.ancestry});
  Decoder decoder(boot_clock_mapping());
  EventPipeline pipeline(decoder, Enrichment{table, users}, filter, *sink, stderr);
  // Replayed events are numbered afresh (a capture's raw records carry no seq); their boot is
  // the capture's, their machine unknown (the capture does not record it).
  pipeline.expect_capture_header();
  auto rules = open_rules(options, table, pipeline);
  if (!rules) {
    return report_error(rules.error());
  }
  const int replayed = run_source(**replay, pipeline, *sink, stderr, rules->between_polls());
  stop_on_signals(nullptr);
  outputs->finish(stderr);
  return replayed;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace procsentry;
  // Reads a capture, none of the monitor's options: parsed apart (verify/verify_command.h).
  if (argc >= 2 && std::string_view(argv[1]) == "verify") {
    const std::vector<std::string> args(argv + 2, argv + argc);
    return run_verify(args, stdout, stderr);
  }
  auto parsed = parse_options(argc, argv, ConfigSupport{&read_config_options, kDefaultConfigPath});
  if (!parsed) {
    return report_error(parsed.error());
  }
  if (parsed->exit_code >= 0) return parsed->exit_code;
  const AppOptions& options = parsed->options;
  if (options.command == Command::tree) return print_tree(options);
  if (options.command == Command::query) return run_query_command(options);
  if (options.command == Command::report) return run_report_command(options);

  install_stop_handlers();
  Filter filter(options.filter);
  UserNames users(user_database());
  if (!options.replay.empty()) return replay_capture(options, filter, users);
  // One mapping for the live decoder and the capture header, so a replay prints the same times.
  const ClockMapping clock = boot_clock_mapping();
  std::unique_ptr<FdOutput> raw;
  if (!options.save_raw.empty()) {
    int fd = open(options.save_raw.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || !make_private(fd)) {  // command lines hold secrets: never world-readable
      fmt::print(stderr, "procsentry: cannot write {}: {}\n", options.save_raw, std::strerror(errno));
      return kExitCannotStart;
    }
    raw = std::make_unique<FdOutput>(fd);
    // Each capture (and each append to one) starts with what replaying it elsewhere needs.
    raw->buffer() = encode_capture_header(
        CaptureHeader{clock, boot_id(), process_uid_scheme().tick_ns(), ClockMapping::now_epoch_ns()});
    raw->end_event();
  }

  // Bound before the sensor loads: a taken port is refused at once. Served once running.
  MetricsBoard metrics_board;
  std::unique_ptr<MetricsServer> metrics;
  if (!options.metrics.empty()) {
    auto bound = MetricsServer::bind(options.metrics, metrics_board, PROCSENTRY_VERSION);
    if (!bound) return report_error(bound.error());
    metrics = std::move(*bound);
  }
  auto source = RingBufferSource::open(options.sensor);
  if (!source) {
    return report_error(source.error());
  }
  stop_on_signals(source->get());
  ProcProcesses proc;
  ProcessTable table(process_uid_scheme(), ProcessTableOptions{&proc, options.ancestry});
  table.seed_from_os();
  // Attached and seeded: what is left needs (almost) no privilege. Capabilities are per thread,
  // so this comes before the outputs' and the hasher's threads start.
  if (int status = drop_to_least_privilege(options, stderr); status != 0) return status;
  auto outputs = Outputs::open(options, stderr);
  if (!outputs) {
    return report_error(outputs.error());
  }
  Sink* sink = &outputs->sink();
  CgroupPaths cgroups(CgroupPaths::find_mount());
  std::unique_ptr<ImageHasher> hasher;
  if (options.hash) hasher = std::make_unique<ImageHasher>();
  Decoder decoder(clock);
  EventPipeline pipeline(decoder, Enrichment{table, users, &cgroups, hasher.get()}, filter, *sink, stderr);
  pipeline.use_origin(host_id(), boot_id());
  pipeline.use_heartbeat(std::chrono::seconds(options.heartbeat_s), outputs->drops_report());
  pipeline.save_raw_to(raw.get());
  auto rules = open_rules(options, table, pipeline);
  if (!rules) {
    return report_error(rules.error());
  }
  std::optional<MetricsPublisher> publisher;
  if (metrics) {
    publisher.emplace(MetricsSources{pipeline, **source, table, *outputs, hasher.get(), rules->rules.get()},
                      metrics_board);
    publisher->publish(true);
    metrics->start();
    fmt::print(stderr, "procsentry: metrics on {}/metrics, health on {}/healthz\n", metrics->url(), metrics->url());
  }
  // Everything is open and every thread started: from here on only the steady state's calls.
  if (options.seccomp) {
    if (auto filtered = install_syscall_allow_list(); !filtered) return report_error(filtered.error());
  }

  fmt::print(stderr, "procsentry: watching exec, {}fork and exit on this machine (Ctrl-C to stop)\n",
             (*source)->reports_exec_failed() ? "exec_failed, " : "");
  if ((*source)->bounded_loops()) {
    fmt::print(stderr,
               "procsentry: this kernel has no bpf_loop (Linux 5.17): paths of more than {} components are marked "
               "truncated\n",
               PS_PATH_STEPS_BOUNDED);
  }
  ServiceStatus service(pipeline, **source);
  service.ready();
  BetweenPolls between_polls = rules->between_polls();
  between_polls.push_back([&] { service.between_polls(); });
  if (publisher) between_polls.push_back([&] { publisher->between_polls(); });
  const int status = run_source(**source, pipeline, *sink, stderr, between_polls);
  service.stopping();
  if (publisher) publisher->publish(false);
  if (metrics) metrics->stop();
  stop_on_signals(nullptr);
  outputs->finish(stderr);
  return status;
}
