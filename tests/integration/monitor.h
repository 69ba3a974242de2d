// Black-box harness: runs the real procsentry binary (--json) against the real sensor and
// spawns real processes with exact argv, so tests see what a user's pipeline would see.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/spawn.h"

namespace procsentry::test {

class MonitorProcess;  // one running procsentry and what it printed so far (monitor.cpp)

// The monitor under test: a view of a running `procsentry --json`.
class Monitor {
 public:
  // A procsentry of its own, started now and stopped by stop(): for tests that pause, stop or
  // restart it, read its files or summary, or pass options that filter events.
  explicit Monitor(std::vector<std::string> extra_args = {});
  // The test binary's procsentry with these options: started by the first test that asks and
  // kept for the next ones, since each start loads and verifies the BPF programs (15-40 s
  // under QEMU without KVM). This view sees only what happens from now on (it starts after a
  // marker process the monitor has reported), and stop() waits until a second marker's exit
  // has arrived: every process the test has waited for is in events() then. Options that
  // filter events would hide the markers: those tests take a Monitor of their own. Its exit
  // status and summary (nothing lost, no decode error) are checked after the last test.
  static Monitor shared(std::vector<std::string> extra_args = {});
  ~Monitor();
  Monitor(Monitor&&) noexcept;
  Monitor& operator=(Monitor&&) = delete;
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Own monitor: SIGTERM, then collect everything it printed; its exit status. Shared: waits
  // for the closing marker; 0 while procsentry runs, else its exit status (or -1: no marker).
  int stop();
  // Every event of this view, in stream order (after stop()).
  const std::vector<nlohmann::json>& events() const { return events_; }
  // What procsentry wrote on stderr so far (a shared monitor's: since its start).
  std::string stderr_text() const;
  pid_t pid() const;

  // Waits (polling the live stream, before stop()) until an event of this view matches.
  bool wait_for_event(const std::function<bool(const nlohmann::json&)>& match,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // Waits until procsentry's stderr contains `text`.
  bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

  // Events of one process (by pid) and kind, in stream order.
  std::vector<nlohmann::json> of(pid_t pid, const std::string& kind) const;
  // "lost" or "decode errors": own monitor, from its closing summary line; shared, the counts
  // of this view's lost events and the decode errors procsentry reported so far.
  std::uint64_t summary_count(const std::string& key) const;

 private:
  Monitor(std::shared_ptr<MonitorProcess> process, bool shared);
  std::shared_ptr<MonitorProcess> process_;
  bool shared_ = false;
  bool stopped_ = false;
  std::size_t begin_ = 0;    // a shared view's first event
  pid_t begin_marker_ = -1;  // and the marker process before it
  std::vector<nlohmann::json> events_;
};

// The options spawn() and run() give the processes tests watch (an empty-ish environment).
struct SpawnOptions {
  std::string cwd;  // empty: inherit
  std::optional<uid_t> uid;
};

// fork + execve(path, argv) with only PATH in the environment; returns the child's pid.
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

// A test that starts its own monitor (root) and writes its files in a private directory
// `<tmp>/<prefix>.<pid>`, removed afterwards.
class SensorTestWithDir : public ::testing::Test {
 protected:
  explicit SensorTestWithDir(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
    dir_ = std::filesystem::temp_directory_path() / (prefix_ + "." + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string prefix_;
  std::filesystem::path dir_;
};

}  // namespace procsentry::test
