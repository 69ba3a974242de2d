// A process identity that survives pid reuse and procsentry restarts: derived from the boot,
// the pid and the process's start time, all of which the kernel fixes when the process is
// born. Format (docs/json-schema.md): "<boot>-<pid>-<start>", where <boot> is the first 8
// hex digits of the boot id and <start> the start time in the kernel's clock ticks
// (Linux: CLOCK_BOOTTIME in USER_HZ ticks, as the OS's process list reports it, so a process
// seen first there and one seen first by the sensor get the same id). The platform layer
// says which boot and which tick (platform/machine.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace procsentry {

class ProcessUid {
 public:
  ProcessUid() = default;
  std::string_view view() const { return {text_, length_}; }
  bool empty() const { return length_ == 0; }
  friend bool operator==(const ProcessUid& a, const ProcessUid& b) { return a.view() == b.view(); }

 private:
  friend class ProcessUidScheme;
  char text_[48] = {};
  std::uint8_t length_ = 0;
};

class ProcessUidScheme {
 public:
  // boot_id: any text, its first 8 hex digits are used; tick_ns: nanoseconds per start tick.
  ProcessUidScheme(std::string_view boot_id, std::uint64_t tick_ns);

  ProcessUid make(std::uint32_t pid, std::uint64_t start_ticks) const;
  ProcessUid from_raw_start(std::uint32_t pid, std::uint64_t start_raw_ns) const {
    return make(pid, start_raw_ns / tick_ns_);
  }
  std::uint64_t tick_ns() const { return tick_ns_; }
  friend bool operator==(const ProcessUidScheme& a, const ProcessUidScheme& b) {
    return std::string_view(a.boot_, 8) == std::string_view(b.boot_, 8) && a.tick_ns_ == b.tick_ns_;
  }

 private:
  char boot_[9] = {};
  std::uint64_t tick_ns_;
};

}  // namespace procsentry
