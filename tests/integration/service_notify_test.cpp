// What a Type=notify unit hears (packaging/procsentry.service), without a running systemd: the
// test owns NOTIFY_SOCKET, a unix datagram socket, and reads what procsentry sends, in order
// with what it prints on stderr.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

class NotifySession {
 public:
  explicit NotifySession(std::vector<std::string> extra_env) {
    dir_ = fs::temp_directory_path() / ("procsentry-notify." + std::to_string(getpid()));
    fs::create_directories(dir_);
    const std::string path = (dir_ / "notify").string();
    socket_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (socket_ < 0 || bind(socket_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("cannot bind " + path);
    }
    std::vector<std::string> env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "NOTIFY_SOCKET=" + path};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    ProcessOptions options;
    options.pipes = true;
    options.env = env;
    child_ = start_process(procsentry_binary(), {procsentry_binary(), "--json"}, options);
  }
  ~NotifySession() {
    stop();
    close(socket_);
    fs::remove_all(dir_);
  }

  // Waits for the next datagram (nullopt after `timeout`); stderr is read meanwhile, and always
  // before a datagram is returned, so stderr_ holds everything printed before it was sent.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      // Its events are read (and dropped) too: a stalled stdout would stall procsentry.
      pollfd fds[3] = {{socket_, POLLIN, 0}, {child_.err, POLLIN, 0}, {child_.out, POLLIN, 0}};
      if (poll(fds, 3, static_cast<int>(left.count())) <= 0) continue;
      drain(child_.out, nullptr);
      drain(child_.err, &stderr_);
      if (fds[0].revents & POLLIN) {
        char buffer[4096];
        ssize_t n = recv(socket_, buffer, sizeof(buffer), 0);
        if (n > 0) return std::string(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  // The next datagram that matches, skipping the others; nullopt after `timeout`.
  std::optional<std::string> next_matching(const std::function<bool(const std::string&)>& match,
                                           std::chrono::milliseconds timeout,
                                           std::vector<std::string>* skipped = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto message =
          next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!message) return std::nullopt;
      if (match(*message)) return message;
      if (skipped != nullptr) skipped->push_back(*message);
    }
    return std::nullopt;
  }
  void stop() {
    if (child_.pid < 0) return;
    kill(child_.pid, SIGTERM);
    status_ = wait_status(child_.pid);
    child_.pid = -1;
    drain(child_.err, &stderr_);
    for (int* fd : {&child_.out, &child_.err}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }
  const std::string& stderr_text() const { return stderr_; }
  int status() const { return status_; }

 private:
  // Reads what `fd` has now, into `into` if given; closes it (-1) at its end.
  static void drain(int& fd, std::string* into) {
    while (fd >= 0) {
      pollfd ready{fd, POLLIN, 0};
      if (poll(&ready, 1, 0) <= 0) return;
      char buffer[65536];
      ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) {
        close(fd);
        fd = -1;
        return;
      }
      if (into != nullptr) into->append(buffer, static_cast<std::size_t>(n));
    }
  }

  fs::path dir_;
  int socket_ = -1;
  Child child_;
  std::string stderr_;
  int status_ = -1;
};

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST(ServiceNotify, ReadyAfterWatchingThenStatusAndWatchdog) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  NotifySession session({"WATCHDOG_USEC=1000000"});
  auto ready = session.next(std::chrono::seconds(120));
  ASSERT_TRUE(ready) << session.stderr_text();
  EXPECT_TRUE(starts_with(*ready, "READY=1\nSTATUS=watching: ")) << *ready;
  EXPECT_NE(session.stderr_text().find("watching"), std::string::npos)
      << "READY=1 came before procsentry said it was watching: " << session.stderr_text();
  // Twice per interval: within a second of READY.
  auto watchdog = session.next(std::chrono::seconds(2));
  ASSERT_TRUE(watchdog);
  EXPECT_EQ(*watchdog, "WATCHDOG=1");
  auto status =
      session.next_matching([](const std::string& m) { return starts_with(m, "STATUS="); }, std::chrono::seconds(15));
  ASSERT_TRUE(status) << session.stderr_text();
  EXPECT_NE(status->find(" events/s, "), std::string::npos) << *status;
  EXPECT_NE(status->find(", lost 0, "), std::string::npos) << *status;
  session.stop();
  EXPECT_TRUE(WIFEXITED(session.status()) && WEXITSTATUS(session.status()) == 0) << session.stderr_text();
  auto stopping =
      session.next_matching([](const std::string& m) { return m == "STOPPING=1"; }, std::chrono::seconds(5));
  EXPECT_TRUE(stopping);
}

TEST(ServiceNotify, NoWatchdogUnlessSystemdAsksForOne) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  NotifySession session({});
  auto ready = session.next(std::chrono::seconds(120));
  ASSERT_TRUE(ready) << session.stderr_text();
  EXPECT_TRUE(starts_with(*ready, "READY=1\n")) << *ready;
  std::vector<std::string> between;
  auto status = session.next_matching([](const std::string& m) { return starts_with(m, "STATUS="); },
                                      std::chrono::seconds(15), &between);
  ASSERT_TRUE(status);
  EXPECT_TRUE(between.empty()) << between.front();
}

}  // namespace
}  // namespace procsentry::test
