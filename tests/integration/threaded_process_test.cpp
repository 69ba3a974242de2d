// Multi-threaded processes: an exec from a thread that is not the leader, exit_group from such
// a thread, and a SIGKILL of the whole group. Each is one exec or one exit of the process (its
// thread-group id), never one per thread, and names the thread that did it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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

void block_forever() {
  for (;;) pause();
}

TEST_F(ThreadedProcess, ExecFromANonLeaderThreadIsOneExecOfTheProcess) {
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  int tid_pipe[2];
  ASSERT_EQ(pipe(tid_pipe), 0);
  Monitor monitor = Monitor::shared();
  pid_t pid = fork();
  if (pid == 0) {
    std::thread worker([&] {
      pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
      if (write(tid_pipe[1], &tid, sizeof(tid)) != sizeof(tid)) _exit(90);
      // The kernel kills every other thread, the leader included, and the process goes on as
      // the new image under the leader's pid.
      execl(self.c_str(), self.c_str(), "--gtest_filter=NoSuchTest", static_cast<char*>(nullptr));
      _exit(91);
    });
    block_forever();
  }
  close(tid_pipe[1]);
  pid_t exec_tid = 0;
  ASSERT_EQ(read(tid_pipe[0], &exec_tid, sizeof(exec_tid)), static_cast<ssize_t>(sizeof(exec_tid)));
  close(tid_pipe[0]);
  int status = wait_for(pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  monitor.stop();
  ASSERT_NE(exec_tid, pid);
  auto execs = monitor.of(pid, "exec");
  ASSERT_EQ(execs.size(), 1u) << monitor.stderr_text();
  EXPECT_EQ(execs[0].at("tid"), exec_tid) << "the exec names the thread that called it";
  EXPECT_EQ(execs[0].at("image"), self);
  EXPECT_TRUE(monitor.of(exec_tid, "exit").empty()) << "threads do not exit as processes";
  auto exits = monitor.of(pid, "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].at("exit_code"), 0);
  EXPECT_EQ(exits[0].at("image"), self);
}

TEST_F(ThreadedProcess, ExitGroupFromANonLeaderThreadIsOneExit) {
  Monitor monitor = Monitor::shared();
  pid_t pid = fork();
  if (pid == 0) {
    std::thread worker([] { syscall(SYS_exit_group, 7); });
    block_forever();
  }
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
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 8; ++i) std::thread(block_forever).detach();
    block_forever();
  }
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
