// exit events: one per process (not per thread), with exit code or signal and lifetime.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

class SchedProcessExit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  }
};

TEST_F(SchedProcessExit, ExitCodeAndLifetime) {
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  Monitor monitor = Monitor::shared();
  pid_t pid = fork();
  if (pid == 0) {
    usleep(200'000);  // the child's lifetime under test, not a wait for an event
    _exit(3);
  }
  int status = wait_for(pid);
  ASSERT_EQ(WEXITSTATUS(status), 3);
  monitor.stop();
  auto exits = monitor.of(pid, "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].at("exit_code"), 3);
  EXPECT_FALSE(exits[0].contains("signal"));
  EXPECT_GE(exits[0].at("duration_ns").get<std::int64_t>(), 200'000'000);
  EXPECT_LT(exits[0].at("duration_ns").get<std::int64_t>(), 10'000'000'000);
  EXPECT_EQ(exits[0].at("ppid"), getpid());
  EXPECT_EQ(exits[0].at("image"), self) << "exit shows the image the process ran";
}

TEST_F(SchedProcessExit, TerminatingSignal) {
  Monitor monitor = Monitor::shared();
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  kill(pid, SIGKILL);
  int status = wait_for(pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  monitor.stop();
  auto exits = monitor.of(pid, "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].at("signal"), SIGKILL);
  EXPECT_FALSE(exits[0].contains("exit_code"));
}

// A process whose main thread exits first and whose last thread ends it later: one exit,
// reported when the last thread goes, never one per thread.
TEST_F(SchedProcessExit, MultiThreadedProcessExitsOnce) {
  Monitor monitor = Monitor::shared();
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<pthread_t> threads(8);
    for (auto& t : threads) {
      pthread_create(
          &t, nullptr,
          [](void*) -> void* {
            usleep(100'000);
            return nullptr;
          },
          nullptr);
    }
    // The leader leaves first; the process lives on. A raw SYS_exit ends only this thread
    // (pthread_exit would unwind through the test framework's handlers in this fork).
    syscall(SYS_exit, 0);
  }
  int status = wait_for(pid);
  ASSERT_TRUE(WIFEXITED(status));
  monitor.stop();
  EXPECT_EQ(monitor.of(pid, "exit").size(), 1u) << monitor.stderr_text();
  EXPECT_EQ(monitor.of(pid, "fork").size(), 1u);
}

}  // namespace
}  // namespace procsentry::test
