#include "core/process_table.h"

#ifndef _WIN32
#include <unistd.h>
#endif

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <utility>

namespace procsentry {

void ProcessTable::seed_from_proc(std::string_view proc_root) {
#ifdef _WIN32
  (void)proc_root;  // no /proc: the Windows table fills from create records only
#else
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator(proc_root, ec)) {
    const std::string name = dir.path().filename().string();
    std::uint32_t pid = 0;
    auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (err != std::errc() || end != name.data() + name.size()) continue;
    char target[4096];
    std::string link = dir.path().string() + "/exe";
    ssize_t n = readlink(link.c_str(), target, sizeof(target));
    if (n <= 0) continue;
    images_[pid] = Entry{std::string(target, static_cast<std::size_t>(n)), 0};
  }
#endif
}

bool ProcessTable::enrich(Event& event) {
  switch (event.kind) {
    case EventKind::exit: {
      std::pair key{event.task.pid, event.task.start_time_ns};
      if (std::find(recent_exits_.begin(), recent_exits_.end(), key) != recent_exits_.end()) return false;
      recent_exits_[next_exit_slot_] = key;
      next_exit_slot_ = (next_exit_slot_ + 1) % recent_exits_.size();
      [[fallthrough]];
    }
    case EventKind::fork: {
      std::uint32_t owner = event.kind == EventKind::fork ? event.parent_pid : event.task.pid;
      if (auto it = images_.find(owner); it != images_.end()) {
        event.known_image = Text{it->second.image, true, false, static_cast<std::uint32_t>(it->second.image.size())};
      }
      return true;
    }
    default:
      return true;
  }
}

void ProcessTable::apply(const Event& event) {
  switch (event.kind) {
    case EventKind::exec:
    case EventKind::create:
      images_[event.task.pid] = Entry{std::string(event.image.bytes), event.task.start_time_ns};
      break;
    case EventKind::fork:
      if (auto it = images_.find(event.parent_pid); it != images_.end()) {
        Entry child{it->second.image, event.task.start_time_ns};  // copy before the insert may rehash
        images_[event.task.pid] = std::move(child);
      }
      break;
    case EventKind::exit:
      images_.erase(event.task.pid);
      break;
    default:
      break;
  }
}

}  // namespace procsentry
