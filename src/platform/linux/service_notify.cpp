#include "platform/linux/service_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>

namespace procsentry {

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // > 0: WATCHDOG_USEC is set and WATCHDOG_PID, if set, is this process.
  if (active_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::send(const std::string& message) const {
  // A lost notification is not worth stopping the monitor for: systemd's own timeouts (start,
  // watchdog) report what never arrived.
  if (active_) (void)sd_notify(0, message.c_str());
}

void ServiceNotifier::ready(const std::string& status) const { send("READY=1\nSTATUS=" + status); }
void ServiceNotifier::status(const std::string& status) const { send("STATUS=" + status); }
void ServiceNotifier::watchdog() const { send("WATCHDOG=1"); }
void ServiceNotifier::stopping() const { send("STOPPING=1"); }

}  // namespace procsentry
