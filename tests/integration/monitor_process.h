// One running `procsentry --json` and everything it has printed so far, read live by a thread
// of its own (the monitor must never block on a full pipe: it would drop kernel records).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace procsentry::test {

class MonitorProcess {
 public:
  // Starts procsentry with `args` (after the binary) and returns once it says it is watching.
  // Throws std::runtime_error, with what it printed, when it exits or is not ready in time.
  explicit MonitorProcess(std::vector<std::string> args);
  ~MonitorProcess();
  MonitorProcess(const MonitorProcess&) = delete;
  MonitorProcess& operator=(const MonitorProcess&) = delete;

  // SIGTERM (once), then everything it printed until it exited; its raw wait status.
  int terminate();
  pid_t pid() const { return pid_; }
  const std::vector<std::string>& args() const { return args_; }
  bool exited() const;  // its output ended: it is gone, or going

  // The index of the first event at or after `from` that matches, waiting for it to arrive;
  // nullopt when the output ends or the timeout passes first.
  std::optional<std::size_t> wait_for_event(std::size_t from, const std::function<bool(const nlohmann::json&)>& match,
                                            std::chrono::milliseconds timeout) const;
  bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout) const;

  std::vector<nlohmann::json> events(std::size_t from, std::size_t to) const;  // [from, to), clamped
  std::size_t event_count() const;
  std::string stderr_text() const;
  std::string bad_line() const;  // the first stdout line that was not JSON, if any

 private:
  void on_stdout(std::string_view chunk);
  void on_stderr(std::string_view chunk);

  std::vector<std::string> args_;
  pid_t owner_ = -1;  // the test process; a forked child of it never stops the monitor
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::optional<int> status_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<nlohmann::json> events_;
  std::string partial_line_;
  std::string stderr_;
  std::string bad_line_;
  bool eof_ = false;
  std::thread reader_;
};

}  // namespace procsentry::test
