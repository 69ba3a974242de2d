#include "app/options.h"

#include <CLI/CLI.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <optional>
#include <string_view>

#include "app/option_docs.h"
#include "core/event.h"

namespace procsentry {
namespace {

constexpr const char* kVersion = "procsentry 0.1.0";

// What each command does with an option it was given (fallthrough lets any main option follow
// a subcommand): an option it would ignore is refused, so that nothing is silently not done.
std::optional<Error> refuse_unused_options(const CLI::App& app, const AppOptions& o) {
  auto given = [&](const char* name) { return app.count(name) > 0; };
  auto refuse = [](std::string name, std::string_view why) {
    return Error{fmt::format("{}: {} (see procsentry --help)", name, why)};
  };
  // Options of the live stream (main options); tree and query use none of them.
  constexpr const char* kStreamOptions[] = {
      "--json",        "--color",          "--pid",    "--ppid",     "--uid",
      "--comm",        "--image",          "--events", "--argv-cap", "--ring-buffer-size",
      "--exec-failed", "--no-exec-failed", "--replay", "--save-raw", "--verbose",
      "--long",        "--ancestry",       "--hash",   "--syslog",   "--output",
      "--rotate",      "--keep-files",     "--quiet"};
  if (o.command == Command::tree || o.command == Command::query) {
    const char* command = o.command == Command::tree ? "tree" : "query";
    for (const char* name : kStreamOptions) {
      // --json is also the subcommand's own option: either place means the same.
      if (given(name) && std::string_view(name) != "--json") {
        return refuse(name, fmt::format("a live-stream option, which procsentry {} does not use", command));
      }
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
    if (o.syslog_url.empty() && o.output_file.empty()) {
      return refuse("--quiet", "needs --syslog or --output (without them nothing would be written)");
    }
  }
  for (const char* name : {"--rotate", "--keep-files"}) {
    if (given(name) && o.output_file.empty()) return refuse(name, "only applies to --output FILE");
  }
  if (!table_shown) {
    const char* why = recording ? "record shows nothing on standard output unless --print"
                                : "nothing is shown on standard output with --quiet";
    for (const char* name : {"--json", "--color", "--long"}) {
      if (given(name) || (recording && name == std::string_view("--json") && o.json)) return refuse(name, why);
    }
  } else if (o.json) {
    for (const char* name : {"--color", "--long"}) {
      if (given(name)) return refuse(name, "only the table has it, not --json");
    }
  }
  if (!o.replay.empty()) {
    // A capture is already made: what tunes the sensor or reads this machine cannot apply.
    for (const char* name : {"--argv-cap", "--ring-buffer-size", "--exec-failed", "--no-exec-failed", "--verbose",
                             "--hash", "--save-raw", "--strict-privileges", "--seccomp"}) {
      if (given(name)) return refuse(name, "not used with --replay (the records were captured already)");
    }
  }
  return std::nullopt;
}

}  // namespace

Result<ParsedOptions> parse_options(int argc, char** argv) {
  ParsedOptions parsed;
  AppOptions& o = parsed.options;
  CLI::App app{"procsentry: every process creation and exit on this machine, live"};
  app.set_version_flag("--version", kVersion);
  // The main options (filters, --syslog, --output...) also apply after a subcommand. Set
  // first: subcommands inherit it when created.
  app.fallthrough();

  app.add_flag("--json", o.json, "JSON Lines output, one object per event (schema: docs/json-schema.md)");
  std::string color = "auto";
  app.add_option("--color", color, "colours in the table: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--pid", o.filter.pids, "only these process ids")->delimiter(',');
  app.add_option("--ppid", o.filter.ppids, "only processes whose parent is one of these")->delimiter(',');
  app.add_option("--uid", o.filter.uids, "only processes of these user ids")->delimiter(',');
  app.add_option("--comm", o.filter.comms, "only these command names (exact)")->delimiter(',');
  app.add_option("--image", o.filter.images, "only images matching this glob, e.g. '/usr/bin/*'");
  std::vector<std::string> events;
  app.add_option("--events", events, "event kinds: exec,exec_failed,fork,exit")
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
  bool exec_failed = false;
  bool no_exec_failed = false;
  auto* exec_failed_flag =
      app.add_flag("--exec-failed", exec_failed,
                   "also report failed execs (exec_failed): hooks every syscall's exit, about +50 ns per syscall");
  app.add_flag("--no-exec-failed", no_exec_failed, "no exec_failed events (the default)")->excludes(exec_failed_flag);
  app.add_option("--replay", o.replay, "read raw wire records from FILE instead of the kernel (no root needed)");
  app.add_option("--save-raw", o.save_raw, "also append every raw wire record to FILE (created 0600), for --replay");
  app.add_flag("--verbose", o.sensor.verbose, "show libbpf's and the verifier's messages");
  app.add_flag("--long", o.long_form, "table: also show each event's process_uid, parent_uid and exec context");
  app.add_flag("--ancestry", o.ancestry, "exec events also carry every ancestor's process_uid and image");
  std::string hash;
  app.add_option("--hash", hash, "also report each exec'd image's hash (computed off the event path): sha256")
      ->check(CLI::IsMember({"sha256"}));

  app.add_option("--syslog", o.syslog_url,
                 "also forward every event to a syslog server as RFC 5424 (JSON payload): udp://HOST:PORT or "
                 "tcp://HOST:PORT");
  app.add_option("--output", o.output_file, "also append every event to FILE as JSON Lines (created 0600)");
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
  app.add_flag("-q,--quiet", o.quiet, "no live view on standard output (with --syslog, --output)");
  CLI::App* tree = app.add_subcommand("tree", "print the current process tree (pid, user, image, args, container)");
  tree->add_option("--pid", o.tree_pid, "only the subtree of this process");
  tree->add_flag("--json", o.json, "one JSON object per process, in tree order");

  CLI::App* record = app.add_subcommand("record", "stream events into the SQLite event store");
  record->add_option("--db", o.db, "database file (default /var/lib/procsentry/events.db as root)");
  record->add_flag("--print", o.print, "also show the live stream (the table, or JSON with --json)");
  record->add_option("--keep", o.keep, "delete events older than this while recording, e.g. 7d, 12h");
  record->add_option("--max-size", o.max_size, "keep the database under this size, e.g. 1G, 500M");
  record->add_flag("--json", o.json, "with --print: JSON Lines");

  CLI::App* query = app.add_subcommand("query", "search the event store (read-only)");
  query->add_option("--db", o.db, "database file (default /var/lib/procsentry/events.db as root)");
  query->add_option("--since", o.since, "from this time: 2026-11-24T03:00:00Z, '2026-11-24 03:00' (local), or 3h ago");
  query->add_option("--until", o.until, "before this time (same forms)");
  query->add_option("--pid", o.query_pids, "only these pids")->delimiter(',');
  query->add_option("--uid", o.query_uids, "only these uids")->delimiter(',');
  query->add_option("--user", o.query_users, "only these user names")->delimiter(',');
  query->add_option("--image", o.image_glob, "only images matching this glob");
  query->add_option("--argv", o.argv_substring, "only command lines containing this text");
  query->add_option("--process-uid", o.process_uid, "only this process (with --tree: its lineage and descendants)");
  query->add_flag("--tree", o.query_tree, "with --process-uid: also its recorded ancestors and descendants");
  query->add_option("--sql", o.sql, "run this read-only SQL and print rows as JSON (table: events)");
  query->add_flag("--json", o.json, "JSON Lines, as recorded");

  // For packaging only (hidden: group ""): the man page and the bash completion from this table.
  bool man = false;
  bool completion = false;
  app.add_flag("--man-page", man, "print the man page procsentry(8)")->group("");
  app.add_flag("--bash-completion", completion, "print the bash completion")->group("");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    parsed.exit_code = app.exit(e);
    return parsed;
  } catch (const CLI::ParseError& e) {
    return Error{e.what() + std::string(" (see procsentry --help)")};
  }
  if (man || completion) {
    std::fputs((man ? man_page(app, kVersion) : bash_completion(app)).c_str(), stdout);
    parsed.exit_code = std::fflush(stdout) == 0 && !std::ferror(stdout) ? 0 : 1;
    return parsed;
  }
  o.color = color == "always" ? ColorMode::always : color == "never" ? ColorMode::never : ColorMode::automatic;
  // Opt-in: the raw syscall-exit hook costs every syscall of the machine (storm_bench syscalls).
  o.sensor.exec_failed = exec_failed;
  o.hash = !hash.empty();
  if (tree->parsed()) o.command = Command::tree;
  if (record->parsed()) o.command = Command::record;
  if (query->parsed()) o.command = Command::query;
  if (o.query_tree && o.process_uid.empty()) return Error{"--tree needs --process-uid (see procsentry query --help)"};
  for (const auto& name : events) o.filter.events.push_back(*event_kind_from_string(name));
  if (auto unused = refuse_unused_options(app, o)) return *unused;
  for (EventKind kind : o.filter.events) {
    if (kind == EventKind::exec_failed && !o.sensor.exec_failed && o.replay.empty()) {
      return Error{"--events exec_failed needs --exec-failed (it hooks every syscall's exit; see procsentry --help)"};
    }
  }
  return parsed;
}

}  // namespace procsentry
