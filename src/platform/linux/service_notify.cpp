#include "platform/linux/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace procsentry {
namespace {

// systemd's notification protocol is a stable interface (sd_notify(3)): one datagram, the
// newline-separated assignments, on the AF_UNIX socket $NOTIFY_SOCKET names (a path, or '@'
// for the abstract namespace). Spoken here rather than through libsystemd's sd_notify: linking
// libsystemd costs 1 MiB of RSS and loads five compression and crypto libraries for that.
bool send_datagram(std::string_view socket_name, const std::string& message) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_name.size() < 2 || socket_name.size() > sizeof(address.sun_path) ||
      (socket_name[0] != '/' && socket_name[0] != '@')) {
    return false;
  }
  std::memcpy(address.sun_path, socket_name.data(), socket_name.size());
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // abstract: no terminating NUL counts
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t sent =
      sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  close(fd);
  return sent == static_cast<ssize_t>(message.size());
}

// WATCHDOG_USEC, when set for this process (WATCHDOG_PID, if set, is its pid); else zero.
std::uint64_t watchdog_usec() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return 0;
  std::uint64_t value = 0;
  const std::string_view text(usec);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return 0;
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr && *pid != '\0') {
    long long expected = 0;
    const std::string_view p(pid);
    auto [pid_end, pid_ec] = std::from_chars(p.data(), p.data() + p.size(), expected);
    if (pid_ec != std::errc{} || pid_end != p.data() + p.size() || expected != getpid()) return 0;
  }
  return value;
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket != nullptr && *socket != '\0') socket_ = socket;
  active_ = !socket_.empty();
  if (active_) watchdog_ = std::chrono::microseconds(watchdog_usec());
}

void ServiceNotifier::send(const std::string& message) const {
  // A lost notification is not worth stopping the monitor for: systemd's own timeouts (start,
  // watchdog) report what never arrived.
  if (active_) (void)send_datagram(socket_, message);
}

void ServiceNotifier::ready(const std::string& status) const { send("READY=1\nSTATUS=" + status); }
void ServiceNotifier::status(const std::string& status) const { send("STATUS=" + status); }
void ServiceNotifier::watchdog() const { send("WATCHDOG=1"); }
void ServiceNotifier::stopping() const { send("STOPPING=1"); }

}  // namespace procsentry
