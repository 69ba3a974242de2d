#include "app/least_privilege.h"

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "app/exit_status.h"
#include "platform/linux/privileges.h"
#include "store/event_store.h"

namespace procsentry {
namespace {

// Whether we can create, rename and chmod files at `path` as the owner we are, without
// CAP_DAC_OVERRIDE and CAP_FOWNER: the file, if it exists, is ours, and the nearest existing
// directory above it (created as needed) is ours and writable by its owner.
bool writable_as_owner(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_uid != geteuid()) return false;
  std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  while (::stat(dir.c_str(), &st) != 0 && dir.has_parent_path() && dir != dir.parent_path()) dir = dir.parent_path();
  return st.st_uid == geteuid() && (st.st_mode & (S_IWUSR | S_IXUSR)) == (S_IWUSR | S_IXUSR);
}

}  // namespace

std::vector<KeptCapability> capabilities_needed(const AppOptions& options) {
  std::vector<KeptCapability> keep;
  if (options.hash) {
    keep.push_back({CAP_DAC_READ_SEARCH, "--hash reads images and directories root cannot read by their modes"});
    keep.push_back({CAP_SYS_PTRACE, "--hash opens a deleted image through /proc/PID/exe of another user's process"});
  }
  // --output rotates (creates and renames files) and the store creates its -wal and -shm
  // files while running: in a directory of another owner that needs the overrides.
  std::vector<std::string> written;
  if (!options.output_file.empty()) written.push_back(options.output_file);
  if (options.command == Command::record) written.push_back(options.db.empty() ? default_database_path() : options.db);
  if (std::any_of(written.begin(), written.end(), [](const std::string& p) { return !writable_as_owner(p); })) {
    keep.push_back({CAP_DAC_OVERRIDE, "--output or --db is in a directory or file of another owner"});
    keep.push_back({CAP_FOWNER, "--output or --db is in a directory or file of another owner"});
  }
  return keep;
}

int drop_to_least_privilege(const AppOptions& options, std::FILE* diagnostics) {
  const std::vector<KeptCapability> needed = capabilities_needed(options);
  std::vector<cap_value_t> keep;
  std::string names;
  for (const KeptCapability& k : needed) {
    keep.push_back(k.cap);
    names += (names.empty() ? "" : " ") + capability_name(k.cap);
  }
  auto dropped = drop_capabilities(keep);
  if (!dropped) {
    fmt::print(diagnostics, "procsentry: {}{}\n", dropped.error().message,
               options.strict_privileges ? " (--strict-privileges: stopping)" : "");
    if (options.strict_privileges) return kExitCannotStart;
  } else if (options.sensor.verbose) {
    fmt::print(diagnostics, "procsentry: capabilities kept: {}\n", names.empty() ? "none" : names);
  }
  return 0;
}

}  // namespace procsentry
