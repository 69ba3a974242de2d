// The notify protocol spoken without libsystemd: what the integration tests do not reach (they
// bind a path): an abstract socket ('@'), and the watchdog settings meant for another process.
#include "platform/linux/service_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace procsentry {
namespace {

TEST(ServiceNotifier, SendsToAnAbstractSocket) {
  const std::string name = "procsentry-notify-test-" + std::to_string(getpid());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());  // sun_path[0] == '\0': abstract
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0) << std::strerror(errno);
  ASSERT_EQ(setenv("NOTIFY_SOCKET", ("@" + name).c_str(), 1), 0);
  const ServiceNotifier notifier;
  ASSERT_TRUE(notifier.active());
  notifier.ready("watching");
  notifier.stopping();
  char buffer[256];
  // A unix datagram is queued by the time sendto returns.
  ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  ASSERT_GT(n, 0) << std::strerror(errno);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "READY=1\nSTATUS=watching");
  n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  ASSERT_GT(n, 0) << std::strerror(errno);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "STOPPING=1");
  close(fd);
  unsetenv("NOTIFY_SOCKET");
}

TEST(ServiceNotifier, WatchdogOnlyWhenMeantForThisProcess) {
  ASSERT_EQ(setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1), 0);
  ASSERT_EQ(setenv("WATCHDOG_USEC", "30000000", 1), 0);
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(ServiceNotifier().watchdog_interval(), std::chrono::seconds(30));
  ASSERT_EQ(setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1), 0);
  EXPECT_EQ(ServiceNotifier().watchdog_interval(), std::chrono::seconds(30));
  ASSERT_EQ(setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1), 0);
  EXPECT_EQ(ServiceNotifier().watchdog_interval(), std::chrono::microseconds(0));
  unsetenv("WATCHDOG_PID");
  ASSERT_EQ(setenv("WATCHDOG_USEC", "30s", 1), 0);
  EXPECT_EQ(ServiceNotifier().watchdog_interval(), std::chrono::microseconds(0));
  unsetenv("NOTIFY_SOCKET");
  ASSERT_EQ(setenv("WATCHDOG_USEC", "30000000", 1), 0);
  EXPECT_FALSE(ServiceNotifier().active());
  EXPECT_EQ(ServiceNotifier().watchdog_interval(), std::chrono::microseconds(0));
  unsetenv("WATCHDOG_USEC");
  // Sending to a socket that is not there is no error: the monitor carries on.
  ASSERT_EQ(setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1), 0);
  ServiceNotifier().status("still here");
  unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace procsentry
