// The --seccomp allow-list, installed for real in a child process: what the monitor does keeps
// working, and a call outside the list (an exec, what an attacker would want) kills it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/linux/syscall_filter.h"

namespace procsentry {
namespace {

// Runs `body` in a child under the filter; its raw wait status. Only raw syscalls after the
// fork: the child of a threaded test binary.
template <typename Body>
int run_filtered(Body body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!install_syscall_allow_list()) _exit(3);
    body();
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return status;
}

TEST(SyscallFilter, AllowsWhatTheMonitorDoes) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int status = run_filtered([&] {
    if (write(fds[1], "x", 1) != 1) _exit(4);
    if (getpid() <= 0) _exit(5);
  });
  close(fds[1]);
  char c = 0;
  EXPECT_EQ(read(fds[0], &c, 1), 1);
  close(fds[0]);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SyscallFilter, AnExecKillsTheProcessWithSigsys) {
  const int status = run_filtered([] {
    char arg0[] = "true";
    char* argv[] = {arg0, nullptr};
    execv("/bin/true", argv);
    _exit(6);  // the exec failed without killing: the filter let it through to the kernel
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

}  // namespace
}  // namespace procsentry
