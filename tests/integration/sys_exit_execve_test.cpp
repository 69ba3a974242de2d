// exec_failed events: an exec attempt that returned an error, with errno and filename.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

class SysExitExecve : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  }
};

TEST_F(SysExitExecve, MissingFileIsReportedWithErrno) {
  Monitor monitor = Monitor::shared({"--exec-failed"});
  auto [pid, status] = run("/nonexistent/procsentry-missing", {"missing"});
  ASSERT_EQ(WEXITSTATUS(status), 127);
  monitor.stop();
  auto failed = monitor.of(pid, "exec_failed");
  ASSERT_EQ(failed.size(), 1u) << monitor.stderr_text();
  EXPECT_EQ(failed[0].at("errno"), ENOENT);
  EXPECT_EQ(failed[0].at("error"), "ENOENT");
  EXPECT_EQ(failed[0].at("filename"), "/nonexistent/procsentry-missing");
  EXPECT_TRUE(monitor.of(pid, "exec").empty());
}

TEST_F(SysExitExecve, NonExecutableFileIsReportedWithEacces) {
  namespace fs = std::filesystem;
  fs::path file = fs::temp_directory_path() / ("procsentry-noexec-" + std::to_string(getpid()));
  std::ofstream(file) << "not a program\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  Monitor monitor = Monitor::shared({"--exec-failed"});
  auto [pid, status] = run(file.string(), {"noexec"}, SpawnOptions{.cwd = {}, .uid = 65534});
  monitor.stop();
  fs::remove(file);
  auto failed = monitor.of(pid, "exec_failed");
  ASSERT_EQ(failed.size(), 1u) << monitor.stderr_text();
  EXPECT_EQ(failed[0].at("errno"), EACCES);
  EXPECT_EQ(failed[0].at("uid"), 65534);
}

// The hook costs every syscall of the machine, so it is opt-in: by default no exec_failed.
TEST_F(SysExitExecve, FailedExecsAreNotReportedWithoutTheOption) {
  Monitor monitor = Monitor::shared();
  auto [pid, status] = run("/nonexistent/procsentry-missing", {"missing"});
  ASSERT_EQ(WEXITSTATUS(status), 127);
  monitor.stop();
  EXPECT_TRUE(monitor.of(pid, "exec_failed").empty());
  EXPECT_NE(monitor.stderr_text().find("watching"), std::string::npos);
  EXPECT_EQ(monitor.stderr_text().find("exec_failed,"), std::string::npos) << monitor.stderr_text();
}

}  // namespace
}  // namespace procsentry::test
