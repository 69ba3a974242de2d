// Exec storm: 4 workers, 2,000 execs in all, each with a unique argv. Every exec must arrive
// exactly once with argv intact, and nothing may be lost or fail to decode.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

constexpr int kWorkers = 4;
constexpr int kExecsPerWorker = 500;

TEST(Storm, TwoThousandExecsArriveExactlyOnceWithArgvIntact) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  Monitor monitor;
  const std::string tag = "storm-" + std::to_string(getpid());
  // Workers are processes (not threads of this test) so that their forks are real.
  std::vector<pid_t> workers;
  for (int w = 0; w < kWorkers; ++w) {
    pid_t worker = fork();
    if (worker == 0) {
      for (int i = 0; i < kExecsPerWorker; ++i) {
        pid_t pid = spawn("/usr/bin/true", {"true", tag, std::to_string(w), std::to_string(i), "with space", ""});
        if (WEXITSTATUS(wait_for(pid)) != 0) _exit(1);
      }
      _exit(0);
    }
    workers.push_back(worker);
  }
  for (pid_t worker : workers) ASSERT_EQ(WEXITSTATUS(wait_for(worker)), 0);
  ASSERT_EQ(monitor.stop(), 0);

  std::map<std::pair<std::string, std::string>, int> seen;
  std::map<int, int> exits_by_pid;
  std::map<int, int> execs_by_pid;
  for (const auto& e : monitor.events()) {
    if (e.at("event") != "exec") continue;
    auto argv = exact_argv(e);
    if (argv.size() < 2 || argv[1] != tag) continue;
    ASSERT_EQ(argv.size(), 6u);
    EXPECT_EQ(argv[4], "with space");
    EXPECT_EQ(argv[5], "");
    seen[{argv[2], argv[3]}]++;
    execs_by_pid[e.at("pid").get<int>()]++;
  }
  for (const auto& e : monitor.events()) {
    if (e.at("event") == "exit" && execs_by_pid.count(e.at("pid").get<int>())) exits_by_pid[e.at("pid").get<int>()]++;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kWorkers * kExecsPerWorker));
  for (const auto& [key, count] : seen) EXPECT_EQ(count, 1) << key.first << "/" << key.second;
  EXPECT_EQ(exits_by_pid.size(), execs_by_pid.size());
  for (const auto& [pid, count] : exits_by_pid) EXPECT_EQ(count, 1) << pid;
  // Causal order per process, although fork, exec and exit run on different CPUs.
  std::map<int, std::vector<std::string>> order;
  for (const auto& e : monitor.events()) {
    if (e.at("event") == "lost" || e.at("event") == "heartbeat") continue;  // about no process
    if (int pid = e.at("pid").get<int>(); execs_by_pid.count(pid)) order[pid].push_back(e.at("event"));
  }
  for (const auto& [pid, kinds] : order) {
    EXPECT_EQ(kinds, (std::vector<std::string>{"fork", "exec", "exit"})) << pid;
  }
  EXPECT_EQ(monitor.summary_count("lost"), 0u) << monitor.stderr_text();
  EXPECT_EQ(monitor.summary_count("decode errors"), 0u);
}

// A reader that stops reading: the kernel side must count every drop and report it in the
// stream as lost records as soon as there is room again, never silently.
TEST(Storm, StalledReaderDropsAreCountedAndReported) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  // While the reader is stopped, the execs carry twice the ring's size in argv bytes alone:
  // each record holds at least its argument (below the default 32 KiB argv cap, so whole).
  constexpr std::size_t kRingBytes = 1 << 20;  // the option's smallest value
  constexpr std::size_t kArgBytes = 30'000;
  constexpr std::size_t kExecs = 2 * kRingBytes / kArgBytes + 1;
  Monitor monitor({"--ring-buffer-size", std::to_string(kRingBytes)});
  kill(monitor.pid(), SIGSTOP);
  const std::string fill(kArgBytes, 'f');
  for (std::size_t i = 0; i < kExecs; ++i) run("/usr/bin/true", {"true", fill});
  kill(monitor.pid(), SIGCONT);
  // Once the reader has made room, an exec arrives again and its records report the gap;
  // until then each attempt may be dropped (and counted) too.
  pid_t last = -1;
  for (int attempt = 0; attempt < 60 && last < 0; ++attempt) {
    const std::string marker = "after-" + std::to_string(attempt);
    auto [pid, status] = run("/usr/bin/true", {"true", marker});
    ASSERT_EQ(WEXITSTATUS(status), 0);
    if (monitor.wait_for_event([pid](const nlohmann::json& e) { return e.value("pid", -1) == pid; },
                               std::chrono::seconds(1))) {
      last = pid;
    }
  }
  ASSERT_GT(last, 0) << "no exec arrived after the stall";
  ASSERT_EQ(monitor.stop(), 0);

  std::uint64_t reported = 0;
  for (const auto& e : monitor.events()) {
    if (e.at("event") == "lost") {
      EXPECT_EQ(e.at("cause"), "ringbuf_full");
      EXPECT_GT(e.at("count").get<std::uint64_t>(), 0u);
      reported += e.at("count").get<std::uint64_t>();
    }
  }
  EXPECT_GT(reported, 0u) << kExecs << " execs of " << kArgBytes << " bytes into a " << kRingBytes
                          << "-byte ring with a stopped reader must drop";
  EXPECT_EQ(monitor.summary_count("lost"), reported) << "every kernel drop reached the stream";
  EXPECT_EQ(monitor.of(last, "exec").size(), 1u) << "events flow again after the gap";
}

// Records sized to their data: with the reader stopped, the default 4 MiB ring holds a burst
// of 3,000 execs from 4 workers (each a fork, an exec and an exit), and none is lost.
TEST(Storm, BurstOfThreeThousandExecsWithAPausedReaderLosesNothing) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  Monitor monitor;
  kill(monitor.pid(), SIGSTOP);
  constexpr int kBurstWorkers = 4;
  constexpr int kPerWorker = 750;
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kBurstWorkers; ++w) {
    workers.emplace_back([w, &failures] {
      for (int i = 0; i < kPerWorker; ++i) {
        auto [pid, status] = run("/usr/bin/true", {"true", "burst", std::to_string(w), std::to_string(i)});
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
      }
    });
  }
  for (auto& t : workers) t.join();
  // The reader was stopped for the whole burst (at least half a second on any machine).
  kill(monitor.pid(), SIGCONT);
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(monitor.stop(), 0);
  int burst_execs = 0;
  for (const auto& e : monitor.events()) {
    EXPECT_NE(e.at("event"), "lost") << e.dump();
    if (e.at("event") == "exec" && e.at("argv").size() == 4 && e.at("argv")[1] == "burst") ++burst_execs;
  }
  EXPECT_EQ(burst_execs, kBurstWorkers * kPerWorker);
  EXPECT_EQ(monitor.summary_count("lost"), 0u) << monitor.stderr_text();
}

}  // namespace
}  // namespace procsentry::test
