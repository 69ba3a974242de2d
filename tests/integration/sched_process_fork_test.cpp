// fork events: processes, never threads; parent and both start times.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

// A ThreadStorm child: this binary exec'd again with the variable set, starting its 32 threads
// before gtest's main. Threads started after fork() in this multi-threaded binary could hang in the
// allocator (another thread may have held its lock at the fork: seen once under ASan, a 300 s
// timeout).
constexpr const char* kThreadStormChild = "PROCSENTRY_TEST_THREAD_STORM_CHILD=1";
const bool thread_storm_child = [] {
  if (std::getenv("PROCSENTRY_TEST_THREAD_STORM_CHILD") == nullptr) return false;
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) threads.emplace_back([] { usleep(1000); });
  for (auto& t : threads) t.join();
  _exit(0);
}();

class SchedProcessFork : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  }
};

TEST_F(SchedProcessFork, ForkCarriesParentAndStartTimes) {
  Monitor monitor = Monitor::shared();
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  wait_for(pid);
  monitor.stop();
  auto forks = monitor.of(pid, "fork");
  ASSERT_EQ(forks.size(), 1u);
  EXPECT_EQ(forks[0].at("parent_pid"), getpid());
  EXPECT_EQ(forks[0].at("ppid"), getpid());
  EXPECT_TRUE(forks[0].contains("start_time"));
  EXPECT_TRUE(forks[0].contains("parent_start_time"));
  EXPECT_LE(forks[0].at("parent_start_time").get<std::string>(), forks[0].at("start_time").get<std::string>());
  // Causal order in the stream: fork before exit.
  std::size_t fork_at = 0;
  std::size_t exit_at = 0;
  for (std::size_t i = 0; i < monitor.events().size(); ++i) {
    const auto& e = monitor.events()[i];
    if (e.value("pid", -1) != pid) continue;
    if (e.at("event") == "fork") fork_at = i;
    if (e.at("event") == "exit") exit_at = i;
  }
  EXPECT_LT(fork_at, exit_at);
}

// 64 processes each starting 32 threads: threads never appear as processes.
TEST_F(SchedProcessFork, ThreadStormShowsNoThreadsAsProcesses) {
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  char* const argv[] = {const_cast<char*>(self.c_str()), nullptr};
  char* const envp[] = {const_cast<char*>(kThreadStormChild), nullptr};
  Monitor monitor = Monitor::shared();
  std::vector<pid_t> children;
  for (int i = 0; i < 64; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      execve(self.c_str(), argv, envp);
      _exit(127);
    }
    children.push_back(pid);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (pid_t pid : children) {
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        for (pid_t child : children) kill(child, SIGKILL);
        FAIL() << "child " << pid << " has not exited after 60 s";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid << " status " << status;
  }
  monitor.stop();
  std::size_t our_forks = 0;
  for (const auto& e : monitor.events()) {
    if (e.at("event") != "fork") continue;
    for (pid_t pid : children) {
      if (e.value("parent_pid", -1) == pid) ADD_FAILURE() << "a thread of " << pid << " appeared as a process";
    }
    if (e.value("parent_pid", -1) == getpid()) ++our_forks;
  }
  EXPECT_EQ(our_forks, children.size());
  for (pid_t pid : children) EXPECT_EQ(monitor.of(pid, "exit").size(), 1u) << pid;
}

}  // namespace
}  // namespace procsentry::test
