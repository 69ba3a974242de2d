#include "integration/monitor_process.h"

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "integration/monitor.h"
#include "support/spawn.h"

namespace procsentry::test {
namespace {

// An upper bound only (the monitor returns as soon as the sensor says it is attached): the
// bounded-loop exec program takes 17-38 s to verify on 5.10 under QEMU without KVM.
constexpr auto kStartTimeout = std::chrono::seconds(120);
// A clean stop takes well under a second (outputs give up on a dead server within ~1 s); a
// monitor still running after this is a hang, reported with where each thread waits.
constexpr auto kStopTimeout = std::chrono::seconds(60);

// Each thread's name and kernel wait channel, to tell which part held on.
std::string threads_of(pid_t pid) {
  std::string out;
  std::error_code ec;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(task, ec)) {
    auto first_line = [&](const char* file) {
      std::ifstream in(entry.path() / file);
      std::string line;
      std::getline(in, line);
      return line;
    };
    out +=
        "  thread " + entry.path().filename().string() + " " + first_line("comm") + ": " + first_line("wchan") + "\n";
  }
  return out;
}

}  // namespace

MonitorProcess::MonitorProcess(std::vector<std::string> args) : args_(std::move(args)), owner_(getpid()) {
  std::vector<std::string> argv{procsentry_binary(), "--json"};
  argv.insert(argv.end(), args_.begin(), args_.end());
  ProcessOptions options;
  options.pipes = true;
  Child child = start_process(argv[0], argv, options);
  pid_ = child.pid;
  out_ = child.out;
  err_ = child.err;
  reader_ = std::thread([this] {
    read_until_eof(
        out_, err_, [this](std::string_view chunk) { on_stdout(chunk); },
        [this](std::string_view chunk) { on_stderr(chunk); });
    std::lock_guard lock(mutex_);
    eof_ = true;
    changed_.notify_all();
  });
  const auto started = std::chrono::steady_clock::now();
  if (!wait_for_stderr("watching", kStartTimeout)) {
    const bool gone = exited();
    terminate();
    throw std::runtime_error(std::string(gone ? "procsentry exited at start: " : "procsentry did not start: ") +
                             stderr_text());
  }
  // Each start loads and verifies the BPF programs: its time, for the kernel matrix's logs.
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::string command = "procsentry --json";
  for (const auto& a : args_) command += " " + a;
  std::fprintf(stderr, "monitor: %s started in %.1f s\n", command.c_str(), took.count());
}

MonitorProcess::~MonitorProcess() { terminate(); }

int MonitorProcess::terminate() {
  if (status_) return *status_;
  if (getpid() != owner_) {  // a child of the test that exits normally: not its monitor
    reader_.detach();
    status_ = -1;
    return *status_;
  }
  kill(pid_, SIGTERM);
  bool stopped = false;
  {
    std::unique_lock lock(mutex_);
    stopped = changed_.wait_for(lock, kStopTimeout, [&] { return eof_; });
  }
  if (!stopped) {
    ADD_FAILURE() << "procsentry (pid " << pid_ << ") still running " << kStopTimeout.count()
                  << " s after SIGTERM; killed. Its threads:\n"
                  << threads_of(pid_) << "its stderr:\n"
                  << stderr_text();
    kill(pid_, SIGKILL);
  }
  reader_.join();
  close(out_);
  close(err_);
  status_ = wait_status(pid_);
  return *status_;
}

bool MonitorProcess::exited() const {
  std::lock_guard lock(mutex_);
  return eof_;
}

void MonitorProcess::on_stdout(std::string_view chunk) {
  std::lock_guard lock(mutex_);
  partial_line_.append(chunk);
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial_line_.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string_view line(partial_line_.data() + start, nl - start);
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded()) {
      if (bad_line_.empty()) bad_line_ = std::string(line);
    } else {
      events_.push_back(std::move(event));
    }
  }
  partial_line_.erase(0, start);
  changed_.notify_all();
}

void MonitorProcess::on_stderr(std::string_view chunk) {
  std::lock_guard lock(mutex_);
  stderr_.append(chunk);
  changed_.notify_all();
}

std::optional<std::size_t> MonitorProcess::wait_for_event(std::size_t from,
                                                          const std::function<bool(const nlohmann::json&)>& match,
                                                          std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (std::size_t next = from;;) {
    for (; next < events_.size(); ++next) {
      if (match(events_[next])) return next;
    }
    if (eof_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && next == events_.size()) return std::nullopt;
  }
}

bool MonitorProcess::wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return eof_ || stderr_.find(text) != std::string::npos; }) &&
         stderr_.find(text) != std::string::npos;
}

std::vector<nlohmann::json> MonitorProcess::events(std::size_t from, std::size_t to) const {
  std::lock_guard lock(mutex_);
  to = std::min(to, events_.size());
  if (from >= to) return {};
  return {events_.begin() + static_cast<std::ptrdiff_t>(from), events_.begin() + static_cast<std::ptrdiff_t>(to)};
}

std::size_t MonitorProcess::event_count() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

std::string MonitorProcess::stderr_text() const {
  std::lock_guard lock(mutex_);
  return stderr_;
}

std::string MonitorProcess::bad_line() const {
  std::lock_guard lock(mutex_);
  return bad_line_;
}

}  // namespace procsentry::test
