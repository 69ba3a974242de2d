#include "platform/machine.h"

#include <grp.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <vector>

namespace procsentry {
namespace {

// Linux reports start times in USER_HZ ticks, which is 100 on every architecture.
constexpr std::uint64_t kUserHzTickNs = 10'000'000;

std::int64_t read_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class PasswdDatabase final : public UserDatabase {
 public:
  std::string user_name(std::uint32_t uid) override {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    return getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr
               ? std::string(found->pw_name)
               : std::string();
  }
  std::string group_name(std::uint32_t gid) override {
    std::vector<char> buffer(16384);
    struct group entry {};
    struct group* found = nullptr;
    return getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr
               ? std::string(found->gr_name)
               : std::string();
  }
};

}  // namespace

ClockMapping boot_clock_mapping() {
  ClockMapping best;
  std::int64_t best_window = INT64_MAX;
  for (int i = 0; i < 5; ++i) {
    std::int64_t before = read_ns(CLOCK_BOOTTIME);
    std::int64_t real = read_ns(CLOCK_REALTIME);
    std::int64_t after = read_ns(CLOCK_BOOTTIME);
    if (after - before < best_window) {
      best_window = after - before;
      best.boot_to_epoch_ns = real - (before + (after - before) / 2);
    }
  }
  return best;
}

std::string boot_id() {
  std::string id;
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::getline(in, id);
  return id;
}

std::string host_id() {
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
    std::string id;
    std::ifstream in(path);
    std::getline(in, id);
    if (!id.empty()) return id;
  }
  return {};
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return {};
  return name;
}

ProcessUidScheme process_uid_scheme() { return ProcessUidScheme(boot_id(), kUserHzTickNs); }

UserDatabase& user_database() {
  static PasswdDatabase database;  // stateless: the caching is UserNames'
  return database;
}

}  // namespace procsentry
