#include "process_table.h"

#include <algorithm>
#include <utility>

namespace procsentry {
namespace {

std::string keep_argv(std::string_view raw, bool& truncated) {
  truncated = raw.size() > ProcessTable::kArgvKept;
  return std::string(raw.substr(0, ProcessTable::kArgvKept));
}

// Empty means unknown (a kernel thread, or the OS would not say): absent, not "".
Text text_of(const std::string& s) { return Text{s, !s.empty(), false, static_cast<std::uint32_t>(s.size())}; }

}  // namespace

ProcessTable::ProcessTable(ProcessUidScheme scheme, ProcessTableOptions options)
    : scheme_(scheme), options_(std::move(options)) {}

void ProcessTable::seed_from_os() {
  if (options_.os == nullptr) return;
  for (std::uint32_t pid : options_.os->pids()) {
    if (auto record = options_.os->read(pid, scheme_)) live_[pid] = std::move(*record);
  }
}

const ProcessRecord* ProcessTable::find(std::uint32_t pid) const {
  auto it = live_.find(pid);
  return it == live_.end() ? nullptr : &it->second;
}

const ProcessRecord* ProcessTable::lookup(std::uint32_t pid) const {
  if (const ProcessRecord* live = find(pid)) return live;
  return recently_exited(pid);
}

const ProcessRecord* ProcessTable::recently_exited(std::uint32_t pid) const {
  const std::size_t n = recent_exits_.size();
  for (std::size_t k = 1; k <= n; ++k) {  // newest first
    const ProcessRecord& r = recent_exits_[(recent_next_ + n - k) % n];
    if (r.pid == pid) return &r;
  }
  return nullptr;
}

const ProcessRecord* ProcessTable::parent_of(const ProcessRecord& child) {
  if (const ProcessRecord* parent = find(child.ppid)) return parent;
  if (options_.os == nullptr || child.pid <= 1) return nullptr;
  // The parent exited: the kernel moved the child to init or a subreaper.
  auto now = options_.os->start_of(child.pid);
  if (!now || now->start_ticks != child.start_ticks) return nullptr;
  if (auto it = live_.find(child.pid); it != live_.end()) it->second.ppid = now->ppid;
  return find(now->ppid);
}

bool ProcessTable::duplicate_exit(const Event& event) const {
  const ProcessUid uid = scheme_.from_raw_start(event.task.pid, event.task.start_time_raw_ns);
  return std::any_of(recent_exits_.begin(), recent_exits_.end(),
                     [&](const ProcessRecord& r) { return r.process_uid == uid; });
}

bool ProcessTable::enrich(Event& event) {
  if (event.kind == EventKind::lost || event.kind == EventKind::hash) return true;
  const ProcessRecord* self = nullptr;  // exit: the process itself (one hash lookup for both uses)
  if (event.kind == EventKind::exit) {
    self = find(event.task.pid);
    if (self == nullptr && duplicate_exit(event)) return false;
  }
  event.process_uid = scheme_.from_raw_start(event.task.pid, event.task.start_time_raw_ns);

  if (event.kind == EventKind::fork) {
    event.parent_uid = scheme_.from_raw_start(event.parent_pid, event.parent_start_time_raw_ns);
    if (const ProcessRecord* parent = lookup(event.parent_pid)) {
      event.known_image = text_of(parent->image);
      event.parent_seeded = parent->seeded;
    }
    return true;
  }
  if (event.kind == EventKind::exit) {
    if (self == nullptr) self = recently_exited(event.task.pid);
    if (self != nullptr) {
      event.known_image = text_of(self->image);
      event.seeded = self->seeded;
    }
  }
  const ProcessRecord* parent = lookup(event.task.ppid);
  if (event.kind == EventKind::create && event.parent_start_time_raw_ns != 0) {
    // Windows names the parent by creation time: right even for a parent started before us,
    // and never a later process that reused its pid.
    event.parent_uid = scheme_.from_raw_start(event.task.ppid, event.parent_start_time_raw_ns);
    if (parent != nullptr && !(parent->process_uid == event.parent_uid)) parent = nullptr;
  }
  if (parent == nullptr) return true;
  event.parent_uid = parent->process_uid;
  if (event.kind != EventKind::exec && event.kind != EventKind::create) return true;
  event.parent_image = text_of(parent->image);
  event.parent_seeded = parent->seeded;
  event.parent_argv_raw =
      Text{parent->argv, true, parent->argv_truncated, static_cast<std::uint32_t>(parent->argv.size())};
  if (!options_.ancestry) return true;
  // Parent first, up to pid 1; the bound also stops a cycle a corrupt table could hold.
  for (const ProcessRecord* a = parent; a != nullptr && event.ancestry.size() < kMaxAncestry;) {
    event.ancestry.push_back(Event::Ancestor{a->pid, a->process_uid, a->image});
    if (a->pid <= 1 || a->ppid == a->pid) break;
    a = parent_of(*a);
  }
  return true;
}

void ProcessTable::apply(const Event& event) {
  switch (event.kind) {
    case EventKind::exec:
    case EventKind::create: {
      ProcessRecord& r = slot(event.task.pid);
      const ProcessUid& uid = event.process_uid;         // enrich() derived it
      if (!(r.process_uid == uid)) r = ProcessRecord{};  // a reused pid whose exit we missed
      r.pid = event.task.pid;
      r.ppid = event.task.ppid;
      r.uid = event.task.uid;
      r.start_ticks = event.task.start_time_raw_ns / scheme_.tick_ns();
      r.process_uid = uid;
      r.comm.assign(event.task.comm);
      r.image.assign(event.image.bytes);
      r.argv =
          keep_argv(event.kind == EventKind::exec ? event.argv_raw.bytes : event.command_line.bytes, r.argv_truncated);
      r.argv_truncated = r.argv_truncated || event.argv_raw.truncated;
      r.cgroup_id = event.cgroup_id;
      r.cgroup.assign(event.cgroup);
      r.seeded = false;
      break;
    }
    case EventKind::fork: {
      // slot() moves no record (node-based map; spares are never looked up): `parent` stays valid.
      const ProcessRecord* parent = lookup(event.parent_pid);
      ProcessRecord& child = slot(event.task.pid);
      if (parent == nullptr) {
        child = ProcessRecord{};
      } else if (parent != &child) {
        child = *parent;  // the child runs the same image; copied into the slot's own buffers
      }
      child.pid = event.task.pid;
      child.ppid = event.parent_pid;
      child.uid = event.task.uid;
      child.start_ticks = event.task.start_time_raw_ns / scheme_.tick_ns();
      child.process_uid = event.process_uid;
      child.seeded = false;
      break;
    }
    case EventKind::exit: {
      auto it = live_.find(event.task.pid);
      if (it == live_.end()) break;
      remember_exit(it);
      break;
    }
    default:
      break;
  }
  if (event.kind == EventKind::exec_failed) {
    // The kernel's ppid is the truth: it changes when the parent exits (reparenting).
    if (auto it = live_.find(event.task.pid); it != live_.end()) it->second.ppid = event.task.ppid;
  }
}

ProcessRecord& ProcessTable::slot(std::uint32_t pid) {
  if (auto it = live_.find(pid); it != live_.end()) return it->second;
  if (spare_.empty()) return live_[pid];
  Live::node_type node = std::move(spare_.back());
  spare_.pop_back();
  node.key() = pid;
  return live_.insert(std::move(node)).position->second;
}

void ProcessTable::remember_exit(Live::iterator it) {
  Live::node_type node = live_.extract(it);
  if (recent_exits_.size() < kRecentExits) {
    recent_exits_.push_back(std::move(node.mapped()));
  } else {
    std::swap(recent_exits_[recent_next_], node.mapped());  // the oldest leaves, its buffers kept
  }
  recent_next_ = (recent_next_ + 1) % kRecentExits;
  if (spare_.size() < kSpareRecords) spare_.push_back(std::move(node));
}

std::size_t ProcessTable::prune_vanished() {
  if (options_.os == nullptr) return 0;
  std::size_t pruned = 0;
  for (auto it = live_.begin(); it != live_.end();) {
    auto now = options_.os->start_of(it->first);
    if (!now || now->start_ticks != it->second.start_ticks) {
      it = live_.erase(it);
      ++pruned;
    } else {
      ++it;
    }
  }
  return pruned;
}

void ProcessTable::use_uid_scheme(const ProcessUidScheme& scheme) {
  if (scheme == scheme_) return;
  scheme_ = scheme;
  live_.clear();
  recent_exits_.clear();
  recent_next_ = 0;
}

}  // namespace procsentry
