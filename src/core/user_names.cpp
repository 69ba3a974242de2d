#include "core/user_names.h"

namespace procsentry {
namespace {

// One cached lookup: `look_up(id)` returns the name or "" (misses are cached too).
template <typename Key, typename LookUp>
std::string_view cached(std::unordered_map<Key, std::string>& cache, const Key& id, LookUp look_up) {
  if (auto it = cache.find(id); it != cache.end()) return it->second;
  std::string name = look_up(id);
  // Full: start over rather than grow (views handed out earlier are used per event only).
  if (cache.size() >= UserNames::kMaxEntries) cache.clear();
  return cache.emplace(id, std::move(name)).first->second;
}

}  // namespace

std::string_view UserNames::name(std::uint32_t uid) {
  return cached(names_, uid, [this](std::uint32_t id) { return database_.user_name(id); });
}

std::string_view UserNames::account(std::string_view sid) {
  if (sid.empty()) return {};
  return cached(accounts_, std::string(sid), [this](const std::string& s) { return database_.account_name(s); });
}

std::string_view UserNames::group(std::uint32_t gid) {
  return cached(groups_, gid, [this](std::uint32_t id) { return database_.group_name(id); });
}

}  // namespace procsentry
