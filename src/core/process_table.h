// Live processes as the event stream describes them: what each pid runs, so that fork and
// exit events can show an image. Seeded from /proc for processes older than procsentry.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/event.h"

namespace procsentry {

class ProcessTable {
 public:
  // Reads /proc/<pid>/exe for every live process (best effort: kernel threads have none).
  void seed_from_proc(std::string_view proc_root = "/proc");

  // Before the sinks: fills event.known_image for fork and exit events. Returns false for a
  // duplicate exit of the same process (possible on kernels without group_dead), which the
  // caller drops.
  bool enrich(Event& event);
  // After the sinks: records exec images and forgets exited processes.
  void apply(const Event& event);

  std::size_t size() const { return images_.size(); }

 private:
  struct Entry {
    std::string image;
    std::int64_t start_time_ns = 0;  // 0 when seeded from /proc (tick resolution only)
  };
  std::unordered_map<std::uint32_t, Entry> images_;
  // Recent exits (pid, start) to recognise a duplicate exit; a tiny ring is enough because
  // duplicates arrive back to back.
  std::array<std::pair<std::uint32_t, std::int64_t>, 64> recent_exits_{};
  std::size_t next_exit_slot_ = 0;
};

}  // namespace procsentry
