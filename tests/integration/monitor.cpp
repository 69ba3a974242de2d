#include "integration/monitor.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace procsentry::test {
namespace {

// An upper bound only (the monitor returns as soon as the sensor says it is attached): the
// bounded-loop exec program takes 17-30 s to verify on 5.10 under QEMU without KVM.
constexpr auto kStartTimeout = std::chrono::seconds(120);

// Reads both pipes until the child closes them (it has exited).
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
}

}  // namespace

std::optional<std::string> user_name(uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  char buffer[4096];
  if (getpwuid_r(uid, &entry, buffer, sizeof(buffer), &found) != 0 || found == nullptr) return std::nullopt;
  return std::string(entry.pw_name);
}

std::optional<std::string> group_name(gid_t gid) {
  group entry{};
  group* found = nullptr;
  char buffer[4096];
  if (getgrgid_r(gid, &entry, buffer, sizeof(buffer), &found) != 0 || found == nullptr) return std::nullopt;
  return std::string(entry.gr_name);
}

namespace {
::testing::AssertionResult names(const nlohmann::json& event, const char* field, std::optional<std::string> name) {
  if (!name) {
    if (!event.contains(field)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << field << " is " << event.at(field) << " for an id with no name";
  }
  if (event.value(field, std::string()) == *name) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << field << " is " << event.value(field, nlohmann::json()) << ", expected "
                                       << *name;
}
}  // namespace

::testing::AssertionResult names_user(const nlohmann::json& event, uid_t uid) {
  return names(event, "user", user_name(uid));
}
::testing::AssertionResult names_group(const nlohmann::json& event, gid_t gid) {
  return names(event, "group", group_name(gid));
}

std::string procsentry_binary() { return PROCSENTRY_BINARY; }
bool running_as_root() { return geteuid() == 0; }

Monitor::Monitor(std::vector<std::string> extra_args) {
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> args{procsentry_binary(), "--json"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  stdout_fd_ = out[0];
  stderr_fd_ = err[0];
  // Ready when it says it is watching; keep stdout drained meanwhile.
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (stderr_text_.find("watching") == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("procsentry did not start: " + stderr_text_);
    pollfd fds[1] = {{stderr_fd_, POLLIN, 0}};
    if (::poll(fds, 1, 100) > 0) {
      char buf[4096];
      ssize_t n = read(stderr_fd_, buf, sizeof(buf));
      if (n == 0) throw std::runtime_error("procsentry exited at start: " + stderr_text_);
      if (n > 0) stderr_text_.append(buf, static_cast<std::size_t>(n));
    }
  }
  // The monitor must never block on a full pipe while a test runs (it would then drop
  // kernel records): a reader drains both pipes until the monitor exits.
  reader_ = std::thread([this] { drain(stdout_fd_, stderr_fd_, stdout_text_, stderr_text_); });
}

Monitor::~Monitor() {
  if (!stopped_) {
    try {
      stop();
    } catch (...) {
    }
  }
}

int Monitor::stop() {
  stopped_ = true;
  kill(pid_, SIGTERM);
  reader_.join();
  close(stdout_fd_);
  close(stderr_fd_);
  int status = 0;
  waitpid(pid_, &status, 0);
  std::istringstream lines(stdout_text_);
  for (std::string line; std::getline(lines, line);) {
    events_.push_back(nlohmann::json::parse(line));  // throws on invalid JSON: a test failure
  }
  return status;
}

std::vector<nlohmann::json> Monitor::of(pid_t pid, const std::string& kind) const {
  std::vector<nlohmann::json> found;
  for (const auto& e : events_) {
    if (e.value("event", "") == kind && e.value("pid", -1) == pid) found.push_back(e);
  }
  return found;
}

std::uint64_t Monitor::summary_count(const std::string& key) const {
  // "..., lost 0, decode errors 0"
  auto at = stderr_text_.rfind(", " + key + " ");
  if (at == std::string::npos) throw std::runtime_error("no '" + key + "' in summary: " + stderr_text_);
  return std::stoull(stderr_text_.substr(at + key.size() + 3));
}

pid_t spawn(const std::string& path, const std::vector<std::string>& argv, const SpawnOptions& options) {
  std::vector<std::string> args = argv;
  pid_t pid = fork();
  if (pid == 0) {
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    if (options.uid && setuid(*options.uid) != 0) _exit(126);
    std::vector<char*> ptrs;
    for (auto& a : args) ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
    char path_env[] = "PATH=/usr/bin:/bin";
    char* envp[] = {path_env, nullptr};
    execve(path.c_str(), ptrs.data(), envp);
    _exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::pair<pid_t, int> run(const std::string& path, const std::vector<std::string>& argv, const SpawnOptions& options) {
  pid_t pid = spawn(path, argv, options);
  return {pid, wait_for(pid)};
}

std::string base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) continue;  // '=' padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::vector<std::string> exact_argv(const nlohmann::json& exec_event) {
  if (exec_event.contains("argv_b64")) {
    std::string raw = base64_decode(exec_event["argv_b64"].get<std::string>());
    std::vector<std::string> argv;
    std::size_t start = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\0') {
        argv.push_back(raw.substr(start, i - start));
        start = i + 1;
      }
    }
    if (start < raw.size()) argv.push_back(raw.substr(start));
    return argv;
  }
  return exec_event.at("argv").get<std::vector<std::string>>();
}

}  // namespace procsentry::test
