// Starting programs from tests and reading what they print: the one way every test does it.
// Both output pipes are read together (poll), so a child that fills one pipe while the test
// waits on the other never blocks, whatever it prints and in whatever order.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace procsentry::test {

struct ProcessOptions {
  std::string cwd;                              // empty: inherit
  std::optional<uid_t> uid;                     // setuid(uid) before the exec
  std::optional<std::vector<std::string>> env;  // "NAME=value" entries; nullopt: this process's
  bool pipes = false;                           // stdout and stderr to pipes (Child::out, err)
};

struct Child {
  pid_t pid = -1;
  int out = -1;  // read ends when ProcessOptions::pipes, else -1
  int err = -1;
};

// fork + exec of `path` (searched in PATH when it has no '/') with exactly `argv`. Everything
// is prepared before the fork: the test binary has threads, so the child only makes syscalls.
// An exec that fails ends the child with status 127. Throws std::system_error when fork fails.
Child start_process(const std::string& path, const std::vector<std::string>& argv, const ProcessOptions& options = {});

// waitpid, retried on EINTR; the raw wait status.
int wait_status(pid_t pid);

// Reads `out` and `err` together until both reach end of file, handing each chunk to its
// callback as it arrives. With a deadline, returns false when it passes first (the fds are
// then left open and unread).
using ChunkSink = std::function<void(std::string_view)>;
bool read_until_eof(int out, int err, const ChunkSink& on_out, const ChunkSink& on_err,
                    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

struct Captured {
  pid_t pid = -1;
  int status = -1;  // raw wait status
  std::string out;
  std::string err;
  bool timed_out = false;  // killed (SIGKILL) after the timeout
};

// Runs the program to its end and returns what it printed on each stream and how it ended.
Captured capture(const std::string& path, const std::vector<std::string>& argv, ProcessOptions options = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace procsentry::test
