// exec events against the real sensor: exact argv, image, filename, script, cwd.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

class SchedProcessExec : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
    dir_ = fs::temp_directory_path() / ("procsentry-exec-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs one program under the shared monitor and returns its single exec event.
  nlohmann::json exec_once(const std::string& path, const std::vector<std::string>& argv,
                           std::vector<std::string> monitor_args = {}, const SpawnOptions& options = {}) {
    Monitor monitor = Monitor::shared(std::move(monitor_args));
    auto [pid, status] = run(path, argv, options);
    EXPECT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(monitor.stop(), 0) << monitor.stderr_text();
    auto execs = monitor.of(pid, "exec");
    EXPECT_EQ(execs.size(), 1u) << monitor.stderr_text();
    EXPECT_EQ(monitor.of(pid, "exit").size(), 1u);
    EXPECT_EQ(monitor.summary_count("lost"), 0u);
    EXPECT_EQ(monitor.summary_count("decode errors"), 0u);
    return execs.empty() ? nlohmann::json::object() : execs.front();
  }

  fs::path dir_;
};

TEST_F(SchedProcessExec, HostileArgvArrivesExactly) {
  const std::vector<std::string> argv = {"true",
                                         "two words",
                                         "",
                                         "middle-empty-before",
                                         "line\nbreak",
                                         "\x1b[31mred\x1b[0m",
                                         std::string("bad-utf8-\xff\xfe-\xc3"),
                                         "tab\there",
                                         "quote'\"",
                                         ""};
  auto event = exec_once("/usr/bin/true", argv);
  EXPECT_EQ(exact_argv(event), argv);
  EXPECT_EQ(event.at("argc"), argv.size());
  EXPECT_EQ(event.at("argv_truncated"), false);
  EXPECT_TRUE(event.contains("argv_b64")) << "invalid UTF-8 must carry the lossless companion";
  EXPECT_EQ(event.at("image"), "/usr/bin/true");
  EXPECT_EQ(event.at("filename"), "/usr/bin/true");
  EXPECT_EQ(event.at("comm"), "true");
  EXPECT_EQ(event.at("ppid"), getpid());
  EXPECT_EQ(event.at("uid"), 0);
}

TEST_F(SchedProcessExec, HundredKibArgumentIsTruncatedWithItsLengthByDefault) {
  const std::string big(100 * 1024, 'A');
  const std::vector<std::string> argv = {"true", big, "after"};
  auto event = exec_once("/usr/bin/true", argv);
  const std::size_t original = 5 + big.size() + 1 + 6;  // NUL-separated bytes
  EXPECT_EQ(event.at("argv_truncated"), true);
  EXPECT_EQ(event.at("argv_original_length"), original);
  auto got = exact_argv(event);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "true");
  EXPECT_EQ(got[1], big.substr(0, 32768 - 5)) << "exactly the first 32 KiB are kept";
}

TEST_F(SchedProcessExec, HundredKibArgumentIsExactWithALargerCap) {
  const std::string big(100 * 1024, 'B');
  const std::vector<std::string> argv = {"true", big, "after"};
  auto event = exec_once("/usr/bin/true", argv, {"--argv-cap", "262144"});
  EXPECT_EQ(event.at("argv_truncated"), false);
  EXPECT_EQ(exact_argv(event), argv);
}

TEST_F(SchedProcessExec, RelativePathResolvesToAbsoluteImage) {
  auto event = exec_once("./bin/true", {"true", "relative"}, {}, SpawnOptions{.cwd = "/usr", .uid = {}});
  EXPECT_EQ(event.at("image"), "/usr/bin/true");
  EXPECT_EQ(event.at("filename"), "./bin/true");
  EXPECT_EQ(event.at("cwd"), "/usr");
}

TEST_F(SchedProcessExec, SymlinkResolvesToTheTarget) {
  fs::path link = dir_ / "link-to-true";
  fs::create_symlink("/usr/bin/true", link);
  auto event = exec_once(link.string(), {"link-to-true"});
  EXPECT_EQ(event.at("image"), "/usr/bin/true");
  EXPECT_EQ(event.at("filename"), link.string());
}

TEST_F(SchedProcessExec, ShebangScriptShowsInterpreterAndScript) {
  fs::path script = dir_ / "hello.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\nexit 0\n";
  }
  fs::permissions(script, fs::perms::owner_all);
  auto event = exec_once("./hello.sh", {"hello.sh", "arg1"}, {}, SpawnOptions{.cwd = dir_.string(), .uid = {}});
  EXPECT_EQ(event.at("image"), fs::canonical("/bin/sh").string());
  EXPECT_EQ(event.at("filename"), "./hello.sh");
  EXPECT_EQ(event.at("script"), script.string());
  // The kernel rewrites argv for the interpreter: sh, then the script path as passed.
  EXPECT_EQ(exact_argv(event), (std::vector<std::string>{"/bin/sh", "./hello.sh", "arg1"}));
}

TEST_F(SchedProcessExec, CredentialsAreThoseOfTheNewImage) {
  auto event = exec_once("/usr/bin/true", {"true"}, {}, SpawnOptions{.cwd = {}, .uid = 65534});
  EXPECT_EQ(event.at("uid"), 65534);
  EXPECT_TRUE(names_user(event, 65534));
}

}  // namespace
}  // namespace procsentry::test
