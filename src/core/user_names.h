// uid -> user name and gid -> group name, each looked up once (misses too), bounded in size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace procsentry {

// Where names come from: the platform layer asks the OS (platform/machine.h).
class UserDatabase {
 public:
  virtual ~UserDatabase() = default;
  virtual std::string user_name(std::uint32_t uid) = 0;   // "" when the uid has no name
  virtual std::string group_name(std::uint32_t gid) = 0;  // "" when the gid has no name
};

class UserNames {
 public:
  static constexpr std::size_t kMaxEntries = 4096;
  explicit UserNames(UserDatabase& database) : database_(database) {}
  // Empty when the uid has no name. The view is valid until the next call.
  std::string_view name(std::uint32_t uid);
  std::string_view group(std::uint32_t gid);

 private:
  UserDatabase& database_;
  std::unordered_map<std::uint32_t, std::string> names_;
  std::unordered_map<std::uint32_t, std::string> groups_;
};

}  // namespace procsentry
