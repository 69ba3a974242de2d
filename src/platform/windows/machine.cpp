#include "platform/machine.h"

namespace procsentry {
namespace {

// Windows records carry no uid; a SID lookup would be the Windows equivalent.
class NoUserDatabase final : public UserDatabase {
 public:
  std::string user_name(std::uint32_t) override { return {}; }
  std::string group_name(std::uint32_t) override { return {}; }
};

}  // namespace

ClockMapping boot_clock_mapping() { return ClockMapping{}; }

std::string boot_id() { return {}; }

ProcessUidScheme process_uid_scheme() { return ProcessUidScheme(boot_id(), 100); }

UserDatabase& user_database() {
  static NoUserDatabase database;
  return database;
}

}  // namespace procsentry
