// Multi-threaded processes: an exec from a thread that is not the leader, exit_group from such
// a thread, and a SIGKILL of the whole group. Each is one exec or one exit of the process (its
// thread-group id), never one per thread, and names the thread that did it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

class ThreadedProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  }
};

std::size_t thread_count(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    (void)entry;
    ++n;
  }
  return n;
}

// Polls until the process has `threads` threads (the test waits for what happened).
::testing::AssertionResult has_threads(pid_t pid, std::size_t threads) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (thread_count(pid) < threads) {
    if (std::chrono::steady_clock::now() > until) {
      return ::testing::AssertionFailure() << "process " << pid << " never had " << threads << " threads";
    }
    std::this_thread::yield();
  }
  return ::testing::AssertionSuccess();
}

[[noreturn]] void block_forever() {
  for (;;) pause();
}

// The multi-threaded processes are this binary exec'd again with a scenario in the
// environment, started before gtest's main: a thread started in a fork() of this
// multi-threaded binary could hang in the allocator (another thread may have held its lock at
// the fork; ThreadStorm hung so once under ASan).
constexpr const char* kScenarioVariable = "PROCSENTRY_TEST_THREADED_SCENARIO";
constexpr const char* kTidFdVariable = "PROCSENTRY_TEST_THREADED_TID_FD";

[[noreturn]] void exec_from_a_thread() {
  const int tid_fd = std::atoi(std::getenv(kTidFdVariable));
  std::thread worker([tid_fd] {
    pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (write(tid_fd, &tid, sizeof(tid)) != sizeof(tid)) _exit(90);
    // The kernel kills every other thread, the leader included, and the process goes on as
    // the new image under the leader's pid (the leader sleeps in pause(): the environment is
    // not read concurrently).
    unsetenv(kScenarioVariable);
    execl("/proc/self/exe", "threaded_process_test", "--gtest_filter=NoSuchTest", static_cast<char*>(nullptr));
    _exit(91);
  });
  block_forever();
}

const bool threaded_scenario = [] {
  const char* scenario = std::getenv(kScenarioVariable);
  if (scenario == nullptr) return false;
  const std::string name = scenario;
  if (name == "exec-from-thread") exec_from_a_thread();
  if (name == "exit-group-from-thread") {
    std::thread worker([] { syscall(SYS_exit_group, 7); });
    block_forever();
  }
  if (name == "nine-threads") {
    for (int i = 0; i < 8; ++i) std::thread(block_forever).detach();
    block_forever();
  }
  _exit(92);
}();

// Starts this binary as the scenario's process; `keep_fd` stays open in it.
pid_t start_scenario(const std::string& scenario, int keep_fd = -1) {
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  const std::string scenario_entry = std::string(kScenarioVariable) + "=" + scenario;
  const std::string fd_entry = std::string(kTidFdVariable) + "=" + std::to_string(keep_fd);
  char* const argv[] = {const_cast<char*>(self.c_str()), nullptr};
  char* const envp[] = {const_cast<char*>(scenario_entry.c_str()), const_cast<char*>(fd_entry.c_str()), nullptr};
  pid_t pid = fork();
  if (pid == 0) {
    if (keep_fd >= 0) fcntl(keep_fd, F_SETFD, 0);
    execve(self.c_str(), argv, envp);
    _exit(127);
  }
  return pid;
}

TEST_F(ThreadedProcess, ExecFromANonLeaderThreadIsOneExecOfTheProcess) {
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  int tid_pipe[2];
  ASSERT_EQ(pipe2(tid_pipe, O_CLOEXEC), 0);
  Monitor monitor = Monitor::shared();
  pid_t pid = start_scenario("exec-from-thread", tid_pipe[1]);
  close(tid_pipe[1]);
  pid_t exec_tid = 0;
  ASSERT_EQ(read(tid_pipe[0], &exec_tid, sizeof(exec_tid)), static_cast<ssize_t>(sizeof(exec_tid)));
  close(tid_pipe[0]);
  int status = wait_for(pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  monitor.stop();
  ASSERT_NE(exec_tid, pid);
  // The scenario's own start (an exec by the leader), then the thread's exec: one each.
  auto execs = monitor.of(pid, "exec");
  ASSERT_EQ(execs.size(), 2u) << monitor.stderr_text();
  EXPECT_EQ(execs[0].at("tid"), pid);
  EXPECT_EQ(execs[1].at("tid"), exec_tid) << "the exec names the thread that called it";
  EXPECT_EQ(execs[1].at("image"), self);
  EXPECT_TRUE(monitor.of(exec_tid, "exit").empty()) << "threads do not exit as processes";
  auto exits = monitor.of(pid, "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].at("exit_code"), 0);
  EXPECT_EQ(exits[0].at("image"), self);
}

TEST_F(ThreadedProcess, ExitGroupFromANonLeaderThreadIsOneExit) {
  Monitor monitor = Monitor::shared();
  pid_t pid = start_scenario("exit-group-from-thread");
  int status = wait_for(pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 7);
  monitor.stop();
  auto exits = monitor.of(pid, "exit");
  ASSERT_EQ(exits.size(), 1u) << monitor.stderr_text();
  EXPECT_EQ(exits[0].at("exit_code"), 7);
  EXPECT_FALSE(exits[0].contains("signal"));
}

TEST_F(ThreadedProcess, SigkilledMultiThreadedProcessIsOneExitWithTheSignal) {
  Monitor monitor = Monitor::shared();
  pid_t pid = start_scenario("nine-threads");
  ASSERT_TRUE(has_threads(pid, 9));
  kill(pid, SIGKILL);
  int status = wait_for(pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  monitor.stop();
  auto exits = monitor.of(pid, "exit");
  ASSERT_EQ(exits.size(), 1u) << monitor.stderr_text();
  EXPECT_EQ(exits[0].at("signal"), SIGKILL);
  EXPECT_FALSE(exits[0].contains("exit_code"));
}

}  // namespace
}  // namespace procsentry::test
