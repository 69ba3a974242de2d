// Everything the command line can say, parsed once in main.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config_option.h"
#include "core/filter.h"
#include "core/result.h"
#include "sinks/formats/event_format.h"
#include "sources/sensor_options.h"

namespace procsentry {

enum class ColorMode { automatic, always, never };

enum class Command { stream, tree, record, query, report };

struct AppOptions {
  Command command = Command::stream;
  bool json = false;
  EventFormat format = EventFormat::native;  // --format: the schema of --json, --output, --syslog
  bool long_form = false;                    // table: identity and context on every line
  bool ancestry = false;                     // exec events carry the ancestors' uids and images
  bool hash = false;                         // --hash sha256
  std::uint32_t tree_pid = 0;                // tree: only this subtree (0: the whole tree)

  // record and query
  std::string db;  // empty: default_database_path()
  bool print = false;
  std::string keep, max_size;  // record retention, as given ("7d", "1G")
  std::string since, until, argv_substring, process_uid, sql, image_glob;
  std::vector<std::uint32_t> query_pids, query_uids;
  std::vector<std::string> query_users;
  std::vector<std::string> query_rules;
  bool query_tree = false;
  std::uint32_t report_top = 10;  // report: rows per list
  std::uint64_t query_limit = 0;  // query --limit N (0: all)
  bool query_reverse = false;     // query --reverse: newest first
  bool query_count = false;       // query --count: only the number
  std::string argv_regex;         // query --argv-regex RE (RE2)
  ColorMode color = ColorMode::automatic;
  FilterOptions filter;
  // outputs besides the live view, each on its own thread
  std::string syslog_url;       // --syslog udp|tcp://HOST:PORT
  std::string output_file;      // --output FILE (JSON Lines)
  std::string rotate = "100M";  // --rotate SIZE (0: never)
  int keep_files = 5;           // --keep-files N
  bool quiet = false;           // no live view on stdout

  // --kafka HOST:PORT[,...] --kafka-topic TOPIC, --kafka-option KEY=VALUE (librdkafka's configuration)
  std::string kafka_brokers, kafka_topic;
  std::vector<std::string> kafka_options;

  std::string replay;    // read raw wire records from this file instead of the kernel
  std::string save_raw;  // also append every raw record to this file (mode 0600)
  SensorOptions sensor;
  // An incomplete capability drop after start-up stops the monitor (status 2).
  bool strict_privileges = false;
  // Once running, a seccomp allow-list (platform/linux/syscall_filter.h).
  bool seccomp = false;
  // --metrics HOST:PORT: Prometheus /metrics and /healthz (metrics/metrics_server.h); "" off.
  std::string metrics;
  // --heartbeat SECONDS: a heartbeat event this often (0: none); README "Proving nothing was lost".
  std::uint32_t heartbeat_s = 60;
  // --output-backlog EVENTS: what each threaded output (file, syslog, Kafka, store) may queue
  // while it is slow or away; beyond it, that output's events are dropped and counted.
  std::uint32_t output_backlog = 65'536;
  std::string config_path;  // the configuration file read (empty: none)
  // --redact as the command line gives it (it wins over the file's `redact:`); unset: the
  // file says, and without one the built-in secrets are masked.
  std::optional<bool> redact;
};

// Returns the options, or an Error; `exit_code` is set when parsing already answered
// (--help, --version) and the program should exit with it.
struct ParsedOptions {
  AppOptions options;
  int exit_code = -1;
};

// Where a client reads a configuration file from (--config): the Linux client's YAML reader
// (src/config); none on Windows. The command line wins over the file.
struct ConfigSupport {
  Result<std::vector<ConfigOption>> (*read)(const std::string& path) = nullptr;
  std::string default_path;  // read when it exists and --config is not given
};
Result<ParsedOptions> parse_options(int argc, char** argv, const ConfigSupport& config = {});

}  // namespace procsentry
