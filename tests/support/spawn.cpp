#include "support/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

extern char** environ;

namespace procsentry::test {
namespace {

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void close_pair(int fds[2]) {
  for (int i = 0; i < 2; ++i) {
    if (fds[i] >= 0) close(fds[i]);
  }
}

}  // namespace

Child start_process(const std::string& path, const std::vector<std::string>& argv, const ProcessOptions& options) {
  std::vector<std::string> args = argv;
  std::vector<char*> arg_ptrs = pointers(args);
  std::vector<std::string> env = options.env.value_or(std::vector<std::string>{});
  std::vector<char*> env_ptrs = pointers(env);
  char** envp = options.env ? env_ptrs.data() : environ;
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (options.pipes && (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)) {
    const int e = errno;
    close_pair(out);
    close_pair(err);
    throw std::system_error(e, std::generic_category(), "pipe2");
  }
  const pid_t pid = fork();
  if (pid == 0) {
    if (options.pipes && (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)) _exit(126);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    if (options.uid && setuid(*options.uid) != 0) _exit(126);
    // execve for a path (execvpe would run a file the kernel refuses with ENOEXEC through sh).
    if (path.find('/') != std::string::npos) {
      execve(path.c_str(), arg_ptrs.data(), envp);
    } else {
      execvpe(path.c_str(), arg_ptrs.data(), envp);
    }
    _exit(127);
  }
  const int fork_errno = errno;
  if (options.pipes) {
    close(out[1]);
    close(err[1]);
  }
  if (pid < 0) {
    if (options.pipes) {
      close(out[0]);
      close(err[0]);
    }
    throw std::system_error(fork_errno, std::generic_category(), "fork");
  }
  return Child{pid, options.pipes ? out[0] : -1, options.pipes ? err[0] : -1};
}

int wait_status(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

bool read_until_eof(int out, int err, const ChunkSink& on_out, const ChunkSink& on_err,
                    std::optional<std::chrono::steady_clock::time_point> deadline) {
  pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
  const ChunkSink* sinks[2] = {&on_out, &on_err};
  int open_fds = 2;
  while (open_fds > 0) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      wait_ms = static_cast<int>(left.count());
    }
    const int ready = poll(fds, 2, wait_ms);
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        (*sinks[i])(std::string_view(buf, static_cast<std::size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // end of file (or an error: nothing more will come)
        --open_fds;
      }
    }
  }
  return true;
}

Captured capture(const std::string& path, const std::vector<std::string>& argv, ProcessOptions options,
                 std::chrono::milliseconds timeout) {
  options.pipes = true;
  const Child child = start_process(path, argv, options);
  Captured result;
  result.pid = child.pid;
  auto append_to = [](std::string& text) { return [&text](std::string_view chunk) { text.append(chunk); }; };
  if (!read_until_eof(child.out, child.err, append_to(result.out), append_to(result.err),
                      std::chrono::steady_clock::now() + timeout)) {
    result.timed_out = true;
    kill(child.pid, SIGKILL);
  }
  close(child.out);
  close(child.err);
  result.status = wait_status(child.pid);
  return result;
}

}  // namespace procsentry::test
