#include "platform/linux/cgroup_paths.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace procsentry {

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
}

}  // namespace procsentry
