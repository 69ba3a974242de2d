#include "app/options.h"

#include <CLI/CLI.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "app/option_docs.h"
#include "core/event.h"

namespace procsentry {
namespace {

constexpr const char* kVersion = "procsentry 0.1.0";

// query: options that would be silently not done together (judged on the values, so that a
// configuration file's `query: {limit: N}` is refused with --sql too).
std::optional<Error> refuse_query_combinations(const AppOptions& o) {
  auto refuse = [](std::string_view name, std::string_view why) {
    return Error{fmt::format("{}: {} (see procsentry query --help)", name, why)};
  };
  const std::pair<bool, const char*> shaping[] = {
      {o.query_limit != 0, "--limit"}, {o.query_reverse, "--reverse"}, {o.query_count, "--count"}};
  for (auto [set, name] : shaping) {
    if (set && !o.sql.empty()) return refuse(name, "not used with --sql (write LIMIT, ORDER BY or count(*) in it)");
  }
  const std::pair<bool, const char*> filters[] = {
      {!o.since.empty(), "--since"},         {!o.until.empty(), "--until"},
      {!o.query_pids.empty(), "--pid"},      {!o.query_uids.empty(), "--uid"},
      {!o.query_users.empty(), "--user"},    {!o.image_glob.empty(), "--image"},
      {!o.argv_substring.empty(), "--argv"}, {!o.argv_regex.empty(), "--argv-regex"},
      {!o.query_rules.empty(), "--rule"},    {!o.process_uid.empty(), "--process-uid"}};
  for (auto [set, name] : filters) {
    if (set && !o.sql.empty()) return refuse(name, "not used with --sql (write the condition in it)");
  }
  for (auto [set, name] : shaping) {
    if (set && name != std::string_view("--count") && o.query_count) {
      return refuse(name, "not used with --count (it counts every matching event, in no order)");
    }
  }
  return std::nullopt;
}

// What each command does with an option it was given (fallthrough lets any main option follow
// a subcommand): an option it would ignore is refused, so that nothing is silently not done.
std::optional<Error> refuse_unused_options(const CLI::App& app, const AppOptions& o) {
  auto given = [&](const char* name) { return app.count(name) > 0; };
  auto refuse = [](std::string name, std::string_view why) {
    return Error{fmt::format("{}: {} (see procsentry --help)", name, why)};
  };
  // Options of the live stream (main options); tree and query use none of them.
  constexpr const char* kStreamOptions[] = {
      "--json",        "--color",          "--pid",       "--ppid",     "--uid",
      "--comm",        "--image",          "--events",    "--argv-cap", "--ring-buffer-size",
      "--exec-failed", "--no-exec-failed", "--replay",    "--save-raw", "--verbose",
      "--long",        "--ancestry",       "--hash",      "--syslog",   "--output",
      "--rotate",      "--keep-files",     "--quiet",     "--metrics",  "--kafka",
      "--kafka-topic", "--kafka-option",   "--heartbeat", "--format",   "--output-backlog"};
  if (o.command == Command::tree || o.command == Command::query || o.command == Command::report) {
    const char* command = o.command == Command::tree ? "tree" : o.command == Command::query ? "query" : "report";
    for (const char* name : kStreamOptions) {
      // --json is also the subcommand's own option: either place means the same.
      if (given(name) && std::string_view(name) != "--json") {
        return refuse(name, fmt::format("a live-stream option, which procsentry {} does not use", command));
      }
    }
    if (o.command != Command::tree && given("--redact")) {
      return refuse("--redact",
                    "the store holds events as they were recorded (masked, unless recorded with --redact off)");
    }
    if (o.command == Command::query) {
      if (auto refused = refuse_query_combinations(o)) return refused;
    }
    for (const char* name : {"--seccomp", "--strict-privileges"}) {
      if (given(name)) return refuse(name, fmt::format("only the live monitor uses it, not procsentry {}", command));
    }
    return std::nullopt;
  }
  const bool recording = o.command == Command::record;
  const bool table_shown = recording ? o.print : !o.quiet;
  if (given("--quiet")) {
    if (recording) return refuse("--quiet", "record shows nothing unless --print");
    if (o.syslog_url.empty() && o.output_file.empty() && o.kafka_brokers.empty()) {
      return refuse("--quiet", "needs --syslog, --output or --kafka (without them nothing would be written)");
    }
  }
  if (!o.kafka_brokers.empty() && o.kafka_topic.empty()) return refuse("--kafka", "needs --kafka-topic TOPIC");
  for (const char* name : {"--kafka-topic", "--kafka-option"}) {
    if (given(name) && o.kafka_brokers.empty()) return refuse(name, "only applies to --kafka BROKERS");
  }
  if (o.seccomp && !o.kafka_brokers.empty()) {
    return refuse("--seccomp", "does not cover --kafka yet (librdkafka's threads make calls outside the allow-list)");
  }
  if (given("--format") && !(table_shown && o.json) && o.output_file.empty() && o.syslog_url.empty() &&
      o.kafka_brokers.empty()) {
    return refuse("--format", "only applies to --json, --output, --syslog and --kafka (the table has one format)");
  }
  for (const char* name : {"--rotate", "--keep-files"}) {
    if (given(name) && o.output_file.empty()) return refuse(name, "only applies to --output FILE");
  }
  if (given("--output-backlog") && !recording && o.output_file.empty() && o.syslog_url.empty() &&
      o.kafka_brokers.empty()) {
    return refuse("--output-backlog", "only applies to --output, --syslog, --kafka and record's database");
  }
  if (!table_shown) {
    const char* why = recording ? "record shows nothing on standard output unless --print"
                                : "nothing is shown on standard output with --quiet";
    for (const char* name : {"--json", "--color", "--long"}) {
      const bool record_json =
          recording && name == std::string_view("--json") && app.get_subcommand("record")->count("--json") > 0;
      if (given(name) || record_json) return refuse(name, why);
    }
  } else if (o.json) {
    for (const char* name : {"--color", "--long"}) {
      if (given(name)) return refuse(name, "only the table has it, not --json");
    }
  }
  if (!o.replay.empty()) {
    // A capture is already made: what tunes the sensor or watches this machine cannot apply.
    // --hash can: it hashes the files the capture names as they are on this machine now.
    for (const char* name : {"--argv-cap", "--ring-buffer-size", "--exec-failed", "--no-exec-failed", "--verbose",
                             "--save-raw", "--strict-privileges", "--seccomp", "--metrics", "--heartbeat"}) {
      if (given(name)) return refuse(name, "not used with --replay (the records were captured already)");
    }
  }
  return std::nullopt;
}

// The options bound to one CLI11 app: the command line is parsed twice when a configuration
// file is read (first alone, to know what the command line itself said; then with the file
// under it), each time into its own Bound.
struct Bound {
  AppOptions o;
  std::string color = "auto";
  std::vector<std::string> events;
  bool exec_failed = false;
  bool no_exec_failed = false;
  std::string hash;
  std::string redact;
  std::string format = "native";
  bool man = false;         // --man-page
  bool completion = false;  // --bash-completion
  CLI::App* tree = nullptr;
  CLI::App* record = nullptr;
  CLI::App* query = nullptr;
  CLI::App* report = nullptr;
};

std::unique_ptr<CLI::App> build_app(Bound& b, bool with_config) {
  AppOptions& o = b.o;
  auto owned = std::make_unique<CLI::App>("procsentry: every process creation and exit on this machine, live");
  CLI::App& app = *owned;
  app.set_version_flag("--version", kVersion);
  // The main options (filters, --syslog, --output...) also apply after a subcommand. Set
  // first: subcommands inherit it when created.
  app.fallthrough();
  if (with_config) {
    app.add_option("--config", o.config_path,
                   "read options and rules from this YAML file (default /etc/procsentry/procsentry.yaml when it "
                   "exists; \"\" for none); the command line wins");
  }

  app.add_flag("--json", o.json, "JSON Lines output, one object per event (schema: docs/json-schema.md)");
  app.add_option("--color", b.color, "colours in the table: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--pid", o.filter.pids, "only these process ids")->delimiter(',');
  app.add_option("--ppid", o.filter.ppids, "only processes whose parent is one of these")->delimiter(',');
  app.add_option("--uid", o.filter.uids, "only processes of these user ids")->delimiter(',');
  app.add_option("--comm", o.filter.comms, "only these command names (exact)")->delimiter(',');
  app.add_option("--image", o.filter.images, "only images matching this glob, e.g. '/usr/bin/*'");
  app.add_option("--events", b.events, "event kinds: exec,exec_failed,fork,exit")
      ->delimiter(',')
      ->check([](const std::string& name) {
        // What --events selects: the Linux sensor's own kinds (lost is always shown; create is
        // Windows'; hash follows its exec).
        constexpr std::string_view kSelectable[] = {"exec", "exec_failed", "fork", "exit"};
        for (std::string_view k : kSelectable) {
          if (k == name) return std::string();
        }
        return "unknown event kind '" + name + "' (expected exec, exec_failed, fork or exit)";
      });
  app.add_option("--argv-cap", o.sensor.argv_cap,
                 "bytes of argv captured per exec, 4096..1048576 (rounded up to a power of two)")
      ->check(CLI::Range(4096u, 1048576u));
  app.add_option("--ring-buffer-size", o.sensor.ring_bytes, "kernel ring buffer bytes (power of two)")
      ->check(CLI::Range(1u << 20, 1u << 30));
  auto* exec_failed_flag =
      app.add_flag("--exec-failed", b.exec_failed,
                   "also report failed execs (exec_failed): hooks every syscall's exit, about +50 ns per syscall");
  app.add_flag("--no-exec-failed", b.no_exec_failed, "no exec_failed events (the default)")->excludes(exec_failed_flag);
  app.add_option("--replay", o.replay, "read raw wire records from FILE instead of the kernel (no root needed)");
  app.add_option("--save-raw", o.save_raw, "also append every raw wire record to FILE (created 0600), for --replay");
  app.add_flag("--verbose", o.sensor.verbose, "show libbpf's and the verifier's messages");
  app.add_flag("--long", o.long_form, "table: also show each event's process_uid, parent_uid and exec context");
  app.add_flag("--ancestry", o.ancestry, "exec events also carry every ancestor's process_uid and image");
  app.add_option("--hash", b.hash,
                 "also report each exec'd (Windows: created) image's hash, computed off the event path (with "
                 "--replay: of the files as they are now): sha256")
      ->check(CLI::IsMember({"sha256"}));

  app.add_option("--syslog", o.syslog_url,
                 "also forward every event to a syslog server as RFC 5424 (JSON payload): udp://HOST:PORT or "
                 "tcp://HOST:PORT");
  app.add_option("--output", o.output_file, "also append every event to FILE as JSON Lines (created 0600)");
  app.add_option("--kafka", o.kafka_brokers,
                 "also produce every event to Kafka (JSON, keyed by host and process_uid): HOST:PORT[,HOST:PORT...]");
  app.add_option("--kafka-topic", o.kafka_topic, "with --kafka: the topic");
  app.add_option("--kafka-option", o.kafka_options,
                 "with --kafka: librdkafka configuration KEY=VALUE over procsentry's defaults (TLS, SASL, "
                 "compression.codec...), repeatable")
      ->allow_extra_args(false);
  app.add_option("--format", b.format,
                 "the JSON's schema for --json, --output, --syslog and --kafka: native (docs/json-schema.md), ecs "
                 "(Elastic Common Schema), ocsf (OCSF Process Activity)")
      ->capture_default_str()
      ->check(CLI::IsMember({"native", "ecs", "ocsf"}));
  app.add_option("--rotate", o.rotate, "with --output: rotate FILE once it reaches this size, e.g. 100M (0: never)")
      ->capture_default_str();
  app.add_option("--keep-files", o.keep_files, "with --output: rotated files to keep (FILE.1 ... FILE.N)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  app.add_flag("--strict-privileges", o.strict_privileges,
               "refuse to run (status 2) when a capability cannot be dropped once the sensor is attached (by "
               "default: one line on stderr, and it runs on)");
  app.add_flag("--seccomp", o.seccomp,
               "once running, allow only the system calls the monitor makes (seccomp): any other kills it (SIGSYS)");
  app.add_option("--heartbeat", o.heartbeat_s,
                 "a heartbeat event this often, in seconds, with the counts so far (default 60; 0: none); "
                 "procsentry verify checks they came on time")
      ->check(CLI::Range(0u, 86400u));
  app.add_option("--output-backlog", o.output_backlog,
                 "events each output (--output, --syslog, --kafka, record's database) may queue while it is slow "
                 "or away; beyond it that output's events are dropped, counted in heartbeats and metrics")
      ->capture_default_str()
      ->check(CLI::Range(16u, 16'777'216u));
  app.add_option("--metrics", o.metrics,
                 "serve Prometheus metrics on http://HOST:PORT/metrics and a health check on /healthz, e.g. "
                 "127.0.0.1:9464 (port 0: any free one, printed at start-up)");
  app.add_option("--redact", b.redact,
                 "mask secrets in command lines before any output (on by default): on, off; the configuration's "
                 "`redact:` adds names and regexes")
      ->check(CLI::IsMember({"on", "off", "true", "false"}));
  app.add_flag("-q,--quiet", o.quiet, "no live view on standard output (with --syslog, --output, --kafka)");
  CLI::App* tree = b.tree =
      app.add_subcommand("tree", "print the current process tree (pid, user, image, args, container)");
  tree->add_option("--pid", o.tree_pid, "only the subtree of this process");
  tree->add_flag("--json", o.json, "one JSON object per process, in tree order");

  CLI::App* record = b.record = app.add_subcommand("record", "stream events into the SQLite event store");
  record->add_option("--db", o.db, "database file (default /var/lib/procsentry/events.db as root)");
  record->add_flag("--print", o.print, "also show the live stream (the table, or JSON with --json)");
  record->add_option("--keep", o.keep, "delete events older than this while recording, e.g. 7d, 12h");
  record->add_option("--max-size", o.max_size, "keep the database under this size, e.g. 1G, 500M");
  record->add_flag("--json", o.json, "with --print: JSON Lines");

  CLI::App* query = b.query = app.add_subcommand("query", "search the event store (read-only)");
  query->add_option("--db", o.db, "database file (default /var/lib/procsentry/events.db as root)");
  query->add_option("--since", o.since, "from this time: 2026-11-24T03:00:00Z, '2026-11-24 03:00' (local), or 3h ago");
  query->add_option("--until", o.until, "before this time (same forms)");
  query->add_option("--pid", o.query_pids, "only these pids")->delimiter(',');
  query->add_option("--uid", o.query_uids, "only these uids")->delimiter(',');
  query->add_option("--user", o.query_users, "only these user names")->delimiter(',');
  query->add_option("--image", o.image_glob, "only images matching this glob");
  query->add_option("--argv", o.argv_substring, "only command lines containing this text");
  query->add_option("--argv-regex", o.argv_regex, "only command lines this regular expression (RE2) matches");
  query->add_option("--rule", o.query_rules, "only events tagged by these include rules (of --config)")->delimiter(',');
  query->add_option("--process-uid", o.process_uid, "only this process (with --tree: its lineage and descendants)");
  query->add_flag("--tree", o.query_tree, "with --process-uid: also its recorded ancestors and descendants");
  query->add_option("--sql", o.sql, "run this read-only SQL and print rows as JSON (table: events)");
  query->add_flag("--json", o.json, "JSON Lines, as recorded (with --count: {\"count\":N})");
  query->add_option("--limit", o.query_limit, "at most N events (the first N in the order shown)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62));
  query->add_flag("--reverse", o.query_reverse, "newest first");
  query->add_flag("--count", o.query_count, "only the number of matching events");

  CLI::App* report = b.report = app.add_subcommand(
      "report", "summaries of the event store: top images, users, parent -> child, failures, first seen");
  report->add_option("--db", o.db, "database file (default /var/lib/procsentry/events.db as root)");
  report->add_option("--since", o.since, "from this time: 2026-11-24T03:00:00Z, '2026-11-24 03:00' (local), or 3h ago");
  report->add_option("--until", o.until, "before this time (same forms)");
  report->add_option("--top", o.report_top, "rows per list (each list says how many there are in all)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000u));
  report->add_flag("--json", o.json, "one JSON object");

  // For packaging only (hidden: group ""): the man page and the bash completion from this table.
  app.add_flag("--man-page", b.man, "print the man page procsentry(8)")->group("");
  app.add_flag("--bash-completion", b.completion, "print the bash completion")->group("");

  return owned;
}

// Applies what both passes share once CLI11 has parsed: the derived fields.
std::optional<Error> finish_options(Bound& b) {
  AppOptions& o = b.o;
  o.color = b.color == "always" ? ColorMode::always : b.color == "never" ? ColorMode::never : ColorMode::automatic;
  // Opt-in: the raw syscall-exit hook costs every syscall of the machine (storm_bench syscalls).
  o.sensor.exec_failed = b.exec_failed;
  o.hash = !b.hash.empty();
  o.format = event_format_from_string(b.format).value_or(EventFormat::native);
  if (!b.redact.empty()) o.redact = b.redact == "on" || b.redact == "true";
  if (b.tree->parsed()) o.command = Command::tree;
  if (b.record->parsed()) o.command = Command::record;
  if (b.query->parsed()) o.command = Command::query;
  if (b.report->parsed()) o.command = Command::report;
  if (o.query_tree && o.process_uid.empty()) return Error{"--tree needs --process-uid (see procsentry query --help)"};
  o.filter.events.clear();
  for (const auto& name : b.events) o.filter.events.push_back(*event_kind_from_string(name));
  return std::nullopt;
}

// --config FILE as the command line gives it: nullopt when not given.
std::optional<std::string> config_on_command_line(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--config" && i + 1 < argc) return std::string(argv[i + 1]);
    if (arg.starts_with("--config=")) return std::string(arg.substr(9));
  }
  return std::nullopt;
}

// What CLI11 takes the file's keys as: items it applies to each option the command line
// left empty (so that the command line wins).
class ConfigItems final : public CLI::Config {
 public:
  explicit ConfigItems(std::vector<CLI::ConfigItem> given) : items_(std::move(given)) {}
  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }
  std::vector<CLI::ConfigItem> from_config(std::istream&) const override { return items_; }

 private:
  std::vector<CLI::ConfigItem> items_;
};

// The file's keys are options of the app (or of a subcommand, under its section): anything
// else is one error naming the line.
std::optional<Error> check_config_keys(CLI::App& app, const std::string& path, const std::vector<ConfigOption>& items) {
  for (const ConfigOption& item : items) {
    CLI::App* scope = &app;
    std::string full;
    for (const std::string& section : item.sections) {
      full += section;
      try {
        scope = scope->get_subcommand(section);
      } catch (const CLI::OptionNotFound&) {
        return Error{
            fmt::format("{}:{}: {}: not a section (the sections are record, query, report, tree, rules, redact)", path,
                        item.line, full)};
      }
      full += ".";
    }
    full += item.key;
    const bool reserved = item.key == "config" || item.key == "help" || item.key == "version";
    if (reserved || scope->get_option_no_throw("--" + item.key) == nullptr) {
      return Error{
          fmt::format("{}:{}: {}: {} (every key is a command-line option without its dashes, or a section: "
                      "record, query, report, tree, rules, redact; see procsentry --help)",
                      path, item.line, full, reserved ? "not a key of the file" : "unknown key")};
    }
  }
  return std::nullopt;
}

// A value CLI11 refused came from the command line (checked in the first pass) or from the
// file: name the file's line.
Error config_value_error(const std::string& path, const std::vector<ConfigOption>& items, const std::string& what) {
  for (const ConfigOption& item : items) {
    if (what.find("--" + item.key) != std::string::npos || what.find(item.key + ":") != std::string::npos) {
      std::string full;
      for (const std::string& section : item.sections) full += section + ".";
      return Error{fmt::format("{}:{}: {}{}: {}", path, item.line, full, item.key, what)};
    }
  }
  return Error{fmt::format("{}: {}", path, what)};
}

}  // namespace

Result<ParsedOptions> parse_options(int argc, char** argv, const ConfigSupport& config) {
  ParsedOptions parsed;
  const bool with_config = config.read != nullptr;
  // First the command line alone: its own errors, --help, and what it says (refusals only
  // judge what the command line gave: the file applies to every command).
  Bound plain;
  auto app = build_app(plain, with_config);
  try {
    app->parse(argc, argv);
  } catch (const CLI::Success& e) {
    parsed.exit_code = app->exit(e);
    return parsed;
  } catch (const CLI::ParseError& e) {
    return Error{e.what() + std::string(" (see procsentry --help)")};
  }
  if (plain.man || plain.completion) {
    std::fputs((plain.man ? man_page(*app, kVersion) : bash_completion(*app)).c_str(), stdout);
    parsed.exit_code = std::fflush(stdout) == 0 && !std::ferror(stdout) ? 0 : 1;
    return parsed;
  }
  if (auto bad = finish_options(plain)) return *bad;

  std::string path;
  if (with_config) {
    if (auto given = config_on_command_line(argc, argv)) {
      path = *given;
    } else if (!config.default_path.empty() && std::filesystem::exists(config.default_path)) {
      path = config.default_path;
    }
  }
  if (path.empty()) {
    parsed.options = std::move(plain.o);
  } else {
    auto items = config.read(path);
    if (!items) return items.error();
    Bound merged;
    auto with_file = build_app(merged, true);
    if (auto bad = check_config_keys(*with_file, path, *items)) return *bad;
    std::vector<CLI::ConfigItem> cli_items;
    for (const ConfigOption& item : *items) {
      CLI::ConfigItem c;
      c.parents = item.sections;
      c.name = item.key;
      c.inputs = item.values;
      cli_items.push_back(std::move(c));
    }
    // CLI11 opens the file only to hand it to the formatter, which gives the items read above.
    with_file->set_config("--config-items", path)->group("");
    with_file->config_formatter(std::make_shared<ConfigItems>(std::move(cli_items)));
    try {
      with_file->parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return config_value_error(path, *items, e.what());
    }
    if (auto bad = finish_options(merged)) return config_value_error(path, *items, bad->message);
    merged.o.config_path = path;
    merged.o.redact = plain.o.redact;  // the file's `redact:` is read by src/redact, under the command line's
    parsed.options = std::move(merged.o);
  }
  AppOptions& o = parsed.options;
  if (auto unused = refuse_unused_options(*app, o)) return *unused;
  for (EventKind kind : o.filter.events) {
    if (kind == EventKind::exec_failed && !o.sensor.exec_failed && o.replay.empty()) {
      return Error{"--events exec_failed needs --exec-failed (it hooks every syscall's exit; see procsentry --help)"};
    }
  }
  return parsed;
}

}  // namespace procsentry
