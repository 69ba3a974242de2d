// uid -> user name and gid -> group name, each looked up once (misses too), bounded in size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace procsentry {

class UserNames {
 public:
  static constexpr std::size_t kMaxEntries = 4096;
  // Empty when the uid has no name. The view is valid until the next call.
  std::string_view name(std::uint32_t uid);
  std::string_view group(std::uint32_t gid);

 private:
  std::unordered_map<std::uint32_t, std::string> names_;
  std::unordered_map<std::uint32_t, std::string> groups_;
};

}  // namespace procsentry
