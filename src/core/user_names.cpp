#include "core/user_names.h"

#ifndef _WIN32
#include <grp.h>
#include <pwd.h>
#endif

#include <vector>

namespace procsentry {

std::string_view UserNames::name(std::uint32_t uid) {
#ifdef _WIN32
  (void)uid;
  return {};  // Windows records carry no uid; a SID lookup would be the Windows equivalent
#else
  if (auto it = names_.find(uid); it != names_.end()) return it->second;
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  std::string name;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) name = found->pw_name;
  // Full: start over rather than grow (views handed out earlier are used per event only).
  if (names_.size() >= kMaxEntries) names_.clear();
  return names_.emplace(uid, std::move(name)).first->second;
#endif
}

std::string_view UserNames::group(std::uint32_t gid) {
#ifdef _WIN32
  (void)gid;
  return {};
#else
  if (auto it = groups_.find(gid); it != groups_.end()) return it->second;
  struct group entry {};
  struct group* found = nullptr;
  std::vector<char> buffer(16384);
  std::string name;
  if (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) name = found->gr_name;
  if (groups_.size() >= kMaxEntries) groups_.clear();
  return groups_.emplace(gid, std::move(name)).first->second;
#endif
}

}  // namespace procsentry
