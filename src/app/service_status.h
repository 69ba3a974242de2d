// What a Type=notify unit hears from the live monitor: READY once the sensor is attached,
// then every few seconds a STATUS line (events/s and what was lost), and WATCHDOG=1 twice per
// interval when systemd's watchdog is on. Runs on the loop's thread, between polls.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "app/pipeline.h"
#include "platform/linux/service_notify.h"
#include "sources/source.h"

namespace procsentry {

class ServiceStatus {
 public:
  ServiceStatus(const EventPipeline& pipeline, const Source& source);
  void ready();
  void between_polls();  // for run_source's callbacks
  void stopping() const { notifier_.stopping(); }

 private:
  std::string line(std::chrono::steady_clock::time_point now);

  const EventPipeline& pipeline_;
  const Source& source_;
  ServiceNotifier notifier_;
  std::chrono::steady_clock::time_point last_status_{}, last_watchdog_{};
  std::uint64_t events_at_last_status_ = 0;
};

}  // namespace procsentry
