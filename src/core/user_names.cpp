#include "core/user_names.h"

#include <pwd.h>

#include <vector>

namespace procsentry {

std::string_view UserNames::name(std::uint32_t uid) {
  if (auto it = names_.find(uid); it != names_.end()) return it->second;
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  std::string name;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) name = found->pw_name;
  // Full: start over rather than grow (views handed out earlier are used per event only).
  if (names_.size() >= kMaxEntries) names_.clear();
  return names_.emplace(uid, std::move(name)).first->second;
}

}  // namespace procsentry
