#include "core/cgroups.h"

#ifndef _WIN32
#include <sys/stat.h>
#endif

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace procsentry {
namespace {

// A run of exactly 64 lowercase hex digits not adjacent to another hex digit.
std::string_view hex64_in(std::string_view component) {
  constexpr std::size_t kIdLength = 64;
  std::size_t run = 0;
  for (std::size_t i = 0; i <= component.size(); ++i) {
    char c = i < component.size() ? component[i] : '\0';
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (hex) {
      ++run;
      continue;
    }
    if (run == kIdLength) return component.substr(i - run, run);
    run = 0;
  }
  return {};
}

}  // namespace

CgroupPaths::CgroupPaths(std::string mount) : mount_(std::move(mount)) {}

std::string CgroupPaths::find_mount(const std::string& mountinfo) {
  std::ifstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    // "36 25 0:31 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw"
    std::size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (root == "/") return point;
  }
  return {};
}

std::string_view CgroupPaths::path(std::uint64_t id) {
  if (mount_.empty() || id == 0) return {};
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  auto now = std::chrono::steady_clock::now();
  if (scanned_ && now - last_scan_ < kRescanInterval) return {};
  rescan();
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  return {};
}

void CgroupPaths::rescan() {
#ifndef _WIN32
  scanned_ = true;
  last_scan_ = std::chrono::steady_clock::now();
  if (paths_.size() > kMaxEntries) paths_.clear();  // views handed out are used per event only
  namespace fs = std::filesystem;
  std::error_code ec;
  struct stat st {};
  if (::stat(mount_.c_str(), &st) == 0) paths_[st.st_ino] = "/";
  for (fs::recursive_directory_iterator it(mount_, fs::directory_options::skip_permission_denied, ec), end; it != end;
       it.increment(ec)) {
    if (ec) break;
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (::stat(it->path().c_str(), &st) != 0) continue;
    paths_[st.st_ino] = "/" + fs::relative(it->path(), mount_, ec).string();
  }
#endif
}

std::string_view container_id_from_cgroup(std::string_view path) {
  while (!path.empty()) {
    std::size_t slash = path.rfind('/');
    std::string_view component = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
    if (!component.starts_with("libpod-conmon-")) {  // podman's monitor, not the container
      if (auto id = hex64_in(component); !id.empty()) return id;
    }
    constexpr std::string_view kMachine = "machine-";
    constexpr std::string_view kScope = ".scope";
    if (component.starts_with(kMachine) && component.ends_with(kScope) &&
        component.size() > kMachine.size() + kScope.size()) {
      return component.substr(kMachine.size(), component.size() - kMachine.size() - kScope.size());
    }
    if (slash == std::string_view::npos) break;
    path = path.substr(0, slash);
  }
  return {};
}

}  // namespace procsentry
