#include "store_scale/timed_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace procsentry::bench {

TimedRun run_timed(const std::vector<std::string>& argv, double timeout_s) {
  TimedRun run;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    run.error = "pipe failed";
    return run;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  auto ms_since_start = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  std::string errors;
  std::vector<char> buffer(1 << 16);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const double left_ms = timeout_s * 1000 - ms_since_start();
    if (left_ms <= 0 && !run.timed_out) {
      run.timed_out = true;
      kill(pid, SIGKILL);  // its pipes close: the loop ends
    }
    if (poll(fds, 2, run.timed_out ? -1 : static_cast<int>(left_ms) + 1) < 0) continue;
    for (pollfd& f : fds) {
      if (f.fd < 0 || f.revents == 0) continue;
      const ssize_t n = read(f.fd, buffer.data(), buffer.size());
      if (n <= 0) {
        close(f.fd);
        f.fd = -1;
        --open_fds;
        continue;
      }
      if (f.fd == out[0]) {
        if (run.first_byte_ms < 0) run.first_byte_ms = ms_since_start();
        if (run.head.size() < 256)
          run.head.append(buffer.data(), std::min<std::size_t>(static_cast<std::size_t>(n), 256));
        run.bytes += static_cast<std::uint64_t>(n);
        run.lines += static_cast<std::uint64_t>(std::count(buffer.data(), buffer.data() + n, '\n'));
      } else if (errors.size() < 4096) {
        errors.append(buffer.data(), static_cast<std::size_t>(n));
      }
    }
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  run.wall_ms = ms_since_start();
  run.peak_rss_kib = usage.ru_maxrss;
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.error = errors.substr(0, errors.find('\n'));
  return run;
}

void drop_page_cache(const std::string& db_path) {
  for (const std::string& path : {db_path, db_path + "-wal", db_path + "-shm"}) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)fdatasync(fd);  // dirty pages cannot be dropped
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

}  // namespace procsentry::bench
