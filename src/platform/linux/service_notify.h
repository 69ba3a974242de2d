// A Type=notify unit's messages to systemd (its notify protocol, without libsystemd). Without
// NOTIFY_SOCKET (not started by systemd) every call does nothing.
#pragma once

#include <chrono>
#include <string>

namespace procsentry {

class ServiceNotifier {
 public:
  // Reads NOTIFY_SOCKET, and WATCHDOG_USEC and WATCHDOG_PID as sd_watchdog_enabled() does.
  ServiceNotifier();

  bool active() const { return active_; }
  // How often systemd wants WATCHDOG=1; zero when its watchdog is off.
  std::chrono::microseconds watchdog_interval() const { return watchdog_; }

  void ready(const std::string& status) const;  // READY=1 and a first STATUS=
  void status(const std::string& status) const;
  void watchdog() const;  // WATCHDOG=1
  void stopping() const;

 private:
  void send(const std::string& message) const;
  std::string socket_;  // $NOTIFY_SOCKET
  bool active_ = false;
  std::chrono::microseconds watchdog_{0};
};

}  // namespace procsentry
