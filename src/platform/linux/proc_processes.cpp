#include "platform/linux/proc_processes.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string_view>

namespace procsentry {
namespace {

// Whole small /proc file, or up to `limit` bytes of it; empty if unreadable.
std::string read_file(const std::string& path, std::size_t limit) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  while (out.size() < limit) {
    ssize_t n = ::read(fd, buf, std::min(sizeof(buf), limit - out.size()));
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

struct ProcStat {
  std::string comm;
  ProcessInspector::Start start;
};

std::optional<ProcStat> read_stat(const std::string& dir) {
  const std::string stat = read_file(dir + "/stat", 4096);
  ProcStat s;
  if (std::size_t open = stat.find('('), close = stat.rfind(')');
      open != std::string::npos && close != std::string::npos && close > open) {
    s.comm = stat.substr(open + 1, close - open - 1);
  }
  if (!parse_number(stat_field(stat, 4), s.start.ppid) || !parse_number(stat_field(stat, 22), s.start.start_ticks)) {
    return std::nullopt;
  }
  return s;
}

}  // namespace

std::vector<std::uint32_t> ProcProcesses::pids() {
  std::vector<std::uint32_t> pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    std::uint32_t pid = 0;
    if (parse_number(std::string_view(name), pid)) pids.push_back(pid);
  }
  return pids;
}

std::optional<ProcessInspector::Start> ProcProcesses::start_of(std::uint32_t pid) {
  auto stat = read_stat(dir(pid));
  if (!stat) return std::nullopt;
  return stat->start;
}

std::optional<ProcessRecord> ProcProcesses::read(std::uint32_t pid, const ProcessUidScheme& scheme) {
  const std::string dir = this->dir(pid);
  auto stat = read_stat(dir);
  if (!stat) return std::nullopt;
  ProcessRecord r;
  r.pid = pid;
  r.ppid = stat->start.ppid;
  r.start_ticks = stat->start.start_ticks;
  r.comm = stat->comm;
  r.process_uid = scheme.make(pid, r.start_ticks);
  char target[4096];
  ssize_t n = readlink((dir + "/exe").c_str(), target, sizeof(target));
  if (n > 0) r.image.assign(target, static_cast<std::size_t>(n));  // kernel threads have none
  r.argv = read_file(dir + "/cmdline", ProcessRecord::kArgvKept + 1);
  r.argv_truncated = r.argv.size() > ProcessRecord::kArgvKept;
  if (r.argv_truncated) r.argv.resize(ProcessRecord::kArgvKept);
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
}

}  // namespace procsentry
