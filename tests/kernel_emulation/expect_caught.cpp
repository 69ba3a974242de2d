// Runs one storm test of the driver built with the seed's static message
// (PROCSENTRY_TEST_SEED_STATIC_MESSAGE) and passes only if the storm caught it: the test
// failed an assertion, or the emulated kernel bug-checked. A pass of the storm, a hang past
// the deadline, or a crash without one of those signatures (a sanitizer's report alone)
// means the storms can no longer see the bug the project exists to prevent.
//   expect_caught SECONDS BINARY ARGS...
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: expect_caught SECONDS BINARY [ARGS...]\n");
    return 2;
  }
  const int seconds = std::atoi(argv[1]);
  int out[2];
  if (pipe(out) != 0) return 2;
  pid_t child = fork();
  if (child == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    close(out[0]);
    execv(argv[2], argv + 2);
    std::perror("expect_caught: exec");
    _exit(127);
  }
  close(out[1]);
  std::string output;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      kill(child, SIGKILL);
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    output.append(buf, static_cast<std::size_t>(n));
  }
  close(out[0]);
  int status = 0;
  waitpid(child, &status, 0);

  const bool bugcheck = output.find("kemu: BUGCHECK") != std::string::npos;
  const bool assertion = output.find("[  FAILED  ]") != std::string::npos;
  const bool failed = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
  const bool overlap_failed = output.find("forced overlap:") != std::string::npos;
  std::string tail = output.size() > 3000 ? output.substr(output.size() - 3000) : output;
  if (overlap_failed) {
    std::printf("NOT CAUGHT: the two callbacks were not forced to overlap, so the run proves nothing\n%s\n",
                tail.c_str());
    return 1;
  }
  if (timed_out) {
    std::printf("NOT CAUGHT: the seeded storm hung past %d s\n%s\n", seconds, tail.c_str());
    return 1;
  }
  if (failed && (bugcheck || assertion)) {
    std::printf("caught: %s\n", bugcheck ? "emulated bug check" : "storm assertion failed");
    std::printf("%s\n", tail.c_str());
    return 0;
  }
  std::printf("NOT CAUGHT: status %d, %s\n%s\n", status,
              failed ? "failed without an expected signature" : "the seeded storm passed", tail.c_str());
  return 1;
}
