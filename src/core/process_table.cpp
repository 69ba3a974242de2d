#include "core/process_table.h"

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <utility>

namespace procsentry {
namespace {

std::string keep_argv(std::string_view raw, bool& truncated) {
  truncated = raw.size() > ProcessTable::kArgvKept;
  return std::string(raw.substr(0, ProcessTable::kArgvKept));
}

// Empty means unknown (a kernel thread, or /proc would not say): absent, not "".
Text text_of(const std::string& s) { return Text{s, !s.empty(), false, static_cast<std::uint32_t>(s.size())}; }

#ifndef _WIN32
// Whole small /proc file, or up to `limit` bytes of it; empty if unreadable.
std::string read_file(const std::string& path, std::size_t limit) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  while (out.size() < limit) {
    ssize_t n = read(fd, buf, std::min(sizeof(buf), limit - out.size()));
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  return err == std::errc() && end == text.data() + text.size();
}

// The n-th space-separated field after the ")" that ends comm (comm may hold anything).
std::string_view stat_field(std::string_view stat, int n) {
  std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return {};
  std::string_view rest = stat.substr(close + 1);
  for (int field = 2;; ++field) {  // field 2 is comm; 3 state, 4 ppid, ... 22 starttime
    std::size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return {};
    rest.remove_prefix(start);
    std::size_t end = rest.find(' ');
    if (field + 1 == n) return rest.substr(0, end);
    if (end == std::string_view::npos) return {};
    rest.remove_prefix(end);
  }
}
#endif

struct ProcStat {
  std::string comm;
  std::uint32_t ppid = 0;
  std::uint64_t start_ticks = 0;
};

std::optional<ProcStat> read_proc_stat(const std::string& dir) {
#ifdef _WIN32
  (void)dir;
  return std::nullopt;
#else
  const std::string stat = read_file(dir + "/stat", 4096);
  ProcStat s;
  if (std::size_t open = stat.find('('), close = stat.rfind(')');
      open != std::string::npos && close != std::string::npos && close > open) {
    s.comm = stat.substr(open + 1, close - open - 1);
  }
  if (!parse_number(stat_field(stat, 4), s.ppid) || !parse_number(stat_field(stat, 22), s.start_ticks)) {
    return std::nullopt;
  }
  return s;
#endif
}

std::string proc_dir(std::string_view proc_root, std::uint32_t pid) {
  return std::string(proc_root) + "/" + std::to_string(pid);
}

}  // namespace

std::optional<ProcessRecord> read_proc_process(std::string_view proc_root, std::uint32_t pid,
                                               const ProcessUidScheme& scheme) {
#ifdef _WIN32
  (void)proc_root, (void)pid, (void)scheme;
  return std::nullopt;
#else
  const std::string dir = proc_dir(proc_root, pid);
  auto stat = read_proc_stat(dir);
  if (!stat) return std::nullopt;
  ProcessRecord r;
  r.pid = pid;
  r.ppid = stat->ppid;
  r.start_ticks = stat->start_ticks;
  r.comm = stat->comm;
  r.process_uid = scheme.make(pid, r.start_ticks);
  char target[4096];
  ssize_t n = readlink((dir + "/exe").c_str(), target, sizeof(target));
  if (n > 0) r.image.assign(target, static_cast<std::size_t>(n));  // kernel threads have none
  r.argv = read_file(dir + "/cmdline", ProcessTable::kArgvKept + 1);
  r.argv_truncated = r.argv.size() > ProcessTable::kArgvKept;
  if (r.argv_truncated) r.argv.resize(ProcessTable::kArgvKept);
  const std::string status = read_file(dir + "/status", 8192);
  if (std::size_t at = status.find("\nUid:\t"); at != std::string::npos) {
    std::string_view rest = std::string_view(status).substr(at + 6);
    (void)parse_number(rest.substr(0, rest.find('\t')), r.uid);
  }
  const std::string cgroup = read_file(dir + "/cgroup", 8192);
  if (std::size_t at = cgroup.find("0::"); at != std::string::npos && (at == 0 || cgroup[at - 1] == '\n')) {
    std::string_view rest = std::string_view(cgroup).substr(at + 3);
    r.cgroup = std::string(rest.substr(0, rest.find('\n')));
  }
  r.seeded = true;
  return r;
#endif
}

ProcessTable::ProcessTable(ProcessUidScheme scheme, ProcessTableOptions options)
    : scheme_(scheme), options_(std::move(options)) {}

void ProcessTable::seed_from_proc() {
  if (options_.proc_root.empty()) return;
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator(options_.proc_root, ec)) {
    const std::string name = dir.path().filename().string();
    std::uint32_t pid = 0;
    auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (err != std::errc() || end != name.data() + name.size()) continue;
    if (auto record = read_proc_process(options_.proc_root, pid, scheme_)) live_[pid] = std::move(*record);
  }
}

const ProcessRecord* ProcessTable::find(std::uint32_t pid) const {
  auto it = live_.find(pid);
  return it == live_.end() ? nullptr : &it->second;
}

const ProcessRecord* ProcessTable::lookup(std::uint32_t pid) const {
  if (const ProcessRecord* live = find(pid)) return live;
  for (auto it = recent_exits_.rbegin(); it != recent_exits_.rend(); ++it) {
    if (it->pid == pid) return &*it;
  }
  return nullptr;
}

const ProcessRecord* ProcessTable::parent_of(const ProcessRecord& child) {
  if (const ProcessRecord* parent = find(child.ppid)) return parent;
  if (options_.proc_root.empty() || child.pid <= 1) return nullptr;
  // The parent exited: the kernel moved the child to init or a subreaper.
  auto now = read_proc_stat(proc_dir(options_.proc_root, child.pid));
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
  if (event.kind == EventKind::exit && live_.find(event.task.pid) == live_.end() && duplicate_exit(event)) return false;
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
    if (const ProcessRecord* self = lookup(event.task.pid)) {
      event.known_image = text_of(self->image);
      event.seeded = self->seeded;
    }
  }
  const ProcessRecord* parent = lookup(event.task.ppid);
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
      ProcessRecord& r = live_[event.task.pid];
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
      ProcessRecord child;
      if (const ProcessRecord* parent = lookup(event.parent_pid)) child = *parent;  // the child runs the same image
      child.pid = event.task.pid;
      child.ppid = event.parent_pid;
      child.uid = event.task.uid;
      child.start_ticks = event.task.start_time_raw_ns / scheme_.tick_ns();
      child.process_uid = event.process_uid;
      child.seeded = false;
      live_[event.task.pid] = std::move(child);
      break;
    }
    case EventKind::exit: {
      auto it = live_.find(event.task.pid);
      if (it == live_.end()) break;
      remember_exit(std::move(it->second));
      live_.erase(it);
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

void ProcessTable::remember_exit(ProcessRecord record) {
  recent_exits_.push_back(std::move(record));
  if (recent_exits_.size() > kRecentExits) recent_exits_.pop_front();
}

std::size_t ProcessTable::prune_vanished() {
  if (options_.proc_root.empty()) return 0;
  std::size_t pruned = 0;
  for (auto it = live_.begin(); it != live_.end();) {
    auto now = read_proc_stat(proc_dir(options_.proc_root, it->first));
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
}

}  // namespace procsentry
