// Black-box harness: runs the real procsentry binary (--json) against the real sensor and
// spawns real processes with exact argv, so tests see what a user's pipeline would see.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace procsentry::test {

// The monitor under test. Starts at construction and waits until the sensor is attached.
class Monitor {
 public:
  explicit Monitor(std::vector<std::string> extra_args = {});
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // SIGTERM, then collect everything it printed. Returns its exit status.
  int stop();
  const std::vector<nlohmann::json>& events() const { return events_; }
  const std::string& stderr_text() const { return stderr_text_; }
  pid_t pid() const { return pid_; }

  // Events of one process (by pid) and kind, in stream order.
  std::vector<nlohmann::json> of(pid_t pid, const std::string& kind) const;
  std::uint64_t summary_count(const std::string& key) const;  // e.g. "lost", "decode errors"

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string stdout_text_;
  std::string stderr_text_;
  std::vector<nlohmann::json> events_;
  bool stopped_ = false;
  std::thread reader_;
};

struct SpawnOptions {
  std::string cwd;  // empty: inherit
  std::optional<uid_t> uid;
};

// fork + execve(path, argv) with an empty-ish environment; returns the child's pid.
pid_t spawn(const std::string& path, const std::vector<std::string>& argv, const SpawnOptions& options = {});
// waitpid; returns the raw wait status.
int wait_for(pid_t pid);
// spawn + wait; returns {pid, wait status}.
std::pair<pid_t, int> run(const std::string& path, const std::vector<std::string>& argv,
                          const SpawnOptions& options = {});

std::string base64_decode(const std::string& text);
// The exact argv bytes an exec event carries (from argv_b64 when present, else argv).
std::vector<std::string> exact_argv(const nlohmann::json& exec_event);

// This system's name for a user or group id, if it has one (tests assume no user names).
std::optional<std::string> user_name(uid_t uid);
std::optional<std::string> group_name(gid_t gid);
// What an event's "user"/"group" field must be: the name, or no field at all.
::testing::AssertionResult names_user(const nlohmann::json& event, uid_t uid);
::testing::AssertionResult names_group(const nlohmann::json& event, gid_t gid);

std::string procsentry_binary();
bool running_as_root();

}  // namespace procsentry::test
