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
  // Windows: the account a SID ("S-1-5-18") names, as DOMAIN\name; "" when unknown (and
  // on Linux, which has no SIDs).
  virtual std::string account_name(std::string_view /*sid*/) { return {}; }
};

class UserNames {
 public:
  static constexpr std::size_t kMaxEntries = 4096;
  explicit UserNames(UserDatabase& database) : database_(database) {}
  // Empty when the uid has no name. The view is valid until the next call.
  std::string_view name(std::uint32_t uid);
  std::string_view group(std::uint32_t gid);
  std::string_view account(std::string_view sid);

 private:
  UserDatabase& database_;
  std::unordered_map<std::uint32_t, std::string> names_;
  std::unordered_map<std::uint32_t, std::string> groups_;
  std::unordered_map<std::string, std::string> accounts_;  // SID -> DOMAIN\name
};

}  // namespace procsentry
