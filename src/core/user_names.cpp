#include "core/user_names.h"

#ifndef _WIN32
#include <grp.h>
#include <pwd.h>
#endif

#include <vector>

namespace procsentry {
namespace {

// One cached lookup: `look_up(id, buffer)` returns the name or "" (misses are cached too).
template <typename LookUp>
std::string_view cached(std::unordered_map<std::uint32_t, std::string>& cache, std::uint32_t id, LookUp look_up) {
  if (auto it = cache.find(id); it != cache.end()) return it->second;
  std::vector<char> buffer(16384);
  std::string name = look_up(id, buffer);
  // Full: start over rather than grow (views handed out earlier are used per event only).
  if (cache.size() >= UserNames::kMaxEntries) cache.clear();
  return cache.emplace(id, std::move(name)).first->second;
}

}  // namespace

std::string_view UserNames::name(std::uint32_t uid) {
#ifdef _WIN32
  (void)uid;
  return {};  // Windows records carry no uid; a SID lookup would be the Windows equivalent
#else
  return cached(names_, uid, [](std::uint32_t id, std::vector<char>& buffer) {
    passwd entry{};
    passwd* found = nullptr;
    return getpwuid_r(id, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr
               ? std::string(found->pw_name)
               : std::string();
  });
#endif
}

std::string_view UserNames::group(std::uint32_t gid) {
#ifdef _WIN32
  (void)gid;
  return {};
#else
  return cached(groups_, gid, [](std::uint32_t id, std::vector<char>& buffer) {
    struct group entry {};
    struct group* found = nullptr;
    return getgrgid_r(id, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr
               ? std::string(found->gr_name)
               : std::string();
  });
#endif
}

}  // namespace procsentry
