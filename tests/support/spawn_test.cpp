// capture() reads stdout and stderr together: a child that writes far more than a pipe holds
// (64 KiB on Linux) to one stream, then to the other, in either order, is read to its end.
#include "support/spawn.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <string>

namespace procsentry::test {
namespace {

// A POSIX sh script printing `lines` lines of 64 bytes (with the newline) to fd `fd`, using
// builtins only.
std::string print_lines(int lines, int fd) {
  return "i=0; while [ $i -lt " + std::to_string(lines) +
         " ]; do echo 012345678901234567890123456789012345678901234567890123456789abc >&" + std::to_string(fd) +
         "; i=$((i+1)); done; ";
}

constexpr int kLines = 3000;  // 192,000 bytes: three times what a pipe holds
constexpr std::size_t kBytes = kLines * 64;

TEST(Capture, MoreThanAPipeHoldsOnStdoutThenOnStderr) {
  Captured c =
      capture("/bin/sh", {"sh", "-c", print_lines(kLines, 1) + print_lines(kLines, 2)}, {}, std::chrono::seconds(60));
  ASSERT_FALSE(c.timed_out);
  EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0) << c.status;
  EXPECT_EQ(c.out.size(), kBytes);
  EXPECT_EQ(c.err.size(), kBytes);
}

TEST(Capture, MoreThanAPipeHoldsOnStderrThenOnStdout) {
  Captured c = capture("/bin/sh", {"sh", "-c", print_lines(kLines, 2) + print_lines(kLines, 1) + "exit 3"}, {},
                       std::chrono::seconds(60));
  ASSERT_FALSE(c.timed_out);
  EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 3) << c.status;
  EXPECT_EQ(c.out.size(), kBytes);
  EXPECT_EQ(c.err.size(), kBytes);
  EXPECT_EQ(c.out.substr(0, 64), "012345678901234567890123456789012345678901234567890123456789abc\n");
}

TEST(Capture, AProgramThatDoesNotEndIsKilledAtTheTimeout) {
  Captured c = capture("/bin/sh", {"sh", "-c", "echo started; exec sleep 600"}, {}, std::chrono::seconds(2));
  EXPECT_TRUE(c.timed_out);
  EXPECT_TRUE(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGKILL) << c.status;
  EXPECT_EQ(c.out, "started\n");
}

TEST(Capture, AMissingProgramEndsWithStatus127) {
  Captured c = capture("/nonexistent/program", {"program"});
  EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 127) << c.status;
}

TEST(Capture, NamesWithoutASlashAreSearchedInPath) {
  ProcessOptions options;
  options.env = {"PATH=/usr/bin:/bin"};
  Captured c = capture("sh", {"sh", "-c", "echo $0 \"$1\"", "zero", "one two"}, options);
  EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0) << c.status;
  EXPECT_EQ(c.out, "zero one two\n");
}

}  // namespace
}  // namespace procsentry::test
