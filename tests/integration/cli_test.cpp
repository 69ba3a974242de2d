// What a user sees when procsentry cannot start: one clear line, exit status 2.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

struct Outcome {
  int status = 0;
  std::string err;
  std::string out;
};

Outcome run_procsentry(const std::vector<std::string>& args, std::optional<uid_t> uid = {}) {
  int err_pipe[2];
  int out_pipe[2];
  if (pipe(err_pipe) != 0 || pipe(out_pipe) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(err_pipe[1], STDERR_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    if (uid && setuid(*uid) != 0) _exit(126);
    std::vector<std::string> all{procsentry_binary()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(err_pipe[1]);
  close(out_pipe[1]);
  Outcome outcome;
  char buf[4096];
  for (ssize_t n; (n = read(err_pipe[0], buf, sizeof(buf))) > 0;) outcome.err.append(buf, static_cast<std::size_t>(n));
  for (ssize_t n; (n = read(out_pipe[0], buf, sizeof(buf))) > 0;) outcome.out.append(buf, static_cast<std::size_t>(n));
  close(err_pipe[0]);
  close(out_pipe[0]);
  outcome.status = wait_for(pid);
  return outcome;
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
    if (e.at("event") == "lost") continue;
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
