// What a user sees when procsentry cannot start: one clear line, exit status 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <string>
#include <vector>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

using Outcome = Captured;

Outcome run_procsentry(const std::vector<std::string>& args, std::optional<uid_t> uid = {}) {
  std::vector<std::string> argv{procsentry_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.uid = uid;
  return capture(argv[0], argv, options);
}

TEST(Cli, NotRootGetsOneClearLineAndStatus2) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to drop to an unprivileged user";
  Outcome o = run_procsentry({}, 65534);
  EXPECT_EQ(WEXITSTATUS(o.status), 2);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find("needs root"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("libbpf"), std::string::npos) << "no libbpf trace: " << o.err;
}

TEST(Cli, UnknownEventKindIsAUsageError) {
  Outcome o = run_procsentry({"--events", "exec,bogus"});
  EXPECT_EQ(WEXITSTATUS(o.status), 2);
  EXPECT_NE(o.err.find("bogus"), std::string::npos) << o.err;
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
}

TEST(Cli, EventsAcceptsOnlyWhatItSelects) {
  for (const char* kind : {"hash", "lost", "create"}) {
    Outcome o = run_procsentry({"--events", std::string("exec,") + kind});
    EXPECT_EQ(WEXITSTATUS(o.status), 2) << kind;
    EXPECT_NE(o.err.find(std::string("unknown event kind '") + kind + "'"), std::string::npos) << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  }
}

TEST(Cli, ExecFailedEventsNeedTheirOptIn) {
  Outcome o = run_procsentry({"--events", "exec,exec_failed"});
  EXPECT_EQ(WEXITSTATUS(o.status), 2);
  EXPECT_EQ(o.err,
            "procsentry: --events exec_failed needs --exec-failed (it hooks every syscall's exit; see procsentry "
            "--help)\n");
}

// An option the command would not use is refused, not ignored: nothing is written and the
// exit status says so (tests/unit/options_test.cpp has every combination).
TEST(Cli, OptionsTheCommandDoesNotUseAreRefused) {
  const std::vector<std::vector<std::string>> uses = {
      {"tree", "--output", "f", "--syslog", "tcp://127.0.0.1:9", "--hash", "sha256"},
      {"-q"},
      {"query", "--comm", "bash"},
      {"--replay", "/nonexistent", "--save-raw", "f"},
  };
  for (const auto& args : uses) {
    Outcome o = run_procsentry(args);
    EXPECT_EQ(WEXITSTATUS(o.status), 2) << args[0];
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_TRUE(o.out.empty()) << o.out;
  }
}

TEST(Cli, AnUnwritableOutputFileIsOneClearLine) {
  Outcome o = run_procsentry({"--output", "/proc/version/events.jsonl"});
  EXPECT_EQ(WEXITSTATUS(o.status), 2);
  EXPECT_EQ(o.err, "procsentry: cannot write /proc/version/events.jsonl: Not a directory (use --output PATH)\n");
}

TEST(Cli, ABadSyslogUrlIsOneClearLine) {
  Outcome o = run_procsentry({"--syslog", "http://127.0.0.1:514"});
  EXPECT_EQ(WEXITSTATUS(o.status), 2);
  EXPECT_EQ(o.err,
            "procsentry: --syslog http://127.0.0.1:514: unknown transport (expected udp://HOST:PORT or "
            "tcp://HOST:PORT)\n");
  o = run_procsentry({"--syslog", "tcp://127.0.0.1:99999"});
  EXPECT_EQ(WEXITSTATUS(o.status), 2);
  EXPECT_NE(o.err.find("the port is not a number from 1 to 65535"), std::string::npos) << o.err;
}

TEST(Cli, FiltersCombine) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  Monitor monitor({"--events", "exec", "--comm", "true", "--ppid", std::to_string(getpid())});
  auto [a, sa] = run("/usr/bin/true", {"true"});
  auto [b, sb] = run("/usr/bin/false", {"false"});
  monitor.stop();
  ASSERT_FALSE(monitor.events().empty());
  for (const auto& e : monitor.events()) {
    if (e.at("event") == "lost" || e.at("event") == "heartbeat") continue;
    EXPECT_EQ(e.at("event"), "exec");
    EXPECT_EQ(e.at("comm"), "true");
    EXPECT_EQ(e.at("ppid"), getpid());
  }
  EXPECT_EQ(monitor.of(a, "exec").size(), 1u);
  EXPECT_TRUE(monitor.of(b, "exec").empty());
}

TEST(Cli, SigtermPrintsOneSummaryLine) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  Monitor monitor;
  run("/usr/bin/true", {"true"});
  EXPECT_EQ(monitor.stop(), 0);
  EXPECT_NE(monitor.stderr_text().find("events (exec "), std::string::npos) << monitor.stderr_text();
  EXPECT_EQ(monitor.summary_count("decode errors"), 0u);
}

}  // namespace
}  // namespace procsentry::test
