// The BPF programs are loaded and attached by a child the monitor forks, which hands the
// descriptors back and exits (sources/linux_bpf/sensor_loader.h): the kernel's BTF is parsed
// there, so its megabytes never count in the monitor's resident set.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

// What each of a process's descriptors is, counted: "anon_inode:bpf-map", "socket:[...]"...
std::map<std::string, int> descriptor_kinds(pid_t pid) {
  std::map<std::string, int> kinds;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec) kinds[target.substr(0, target.find('['))]++;
  }
  return kinds;
}

TEST(SensorLoader, TheLoaderIsGoneAndTheProgramsItAttachedKeepReporting) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  Monitor monitor;
  // Watching: the loader has exited and been reaped, no child is left.
  std::ifstream children("/proc/" + std::to_string(monitor.pid()) + "/task/" + std::to_string(monitor.pid()) +
                         "/children");
  std::string listed((std::istreambuf_iterator<char>(children)), std::istreambuf_iterator<char>());
  EXPECT_EQ(listed, "") << "children left by the monitor";
  // The monitor holds what the child made: the ring buffer and counters maps, and a link per
  // attached program (exec, fork, exit).
  auto kinds = descriptor_kinds(monitor.pid());
  EXPECT_GE(kinds["anon_inode:bpf-map"], 2);
  EXPECT_GE(kinds["anon_inode:bpf_link"], 3);
  // And the programs still report, after the process that attached them is gone.
  const std::string tag = "loader-" + std::to_string(getpid());
  pid_t pid = spawn("/usr/bin/true", {"true", tag});
  ASSERT_EQ(WEXITSTATUS(wait_for(pid)), 0);
  EXPECT_TRUE(monitor.wait_for_event(
      [&](const nlohmann::json& e) { return e.at("event") == "exit" && e.at("pid").get<pid_t>() == pid; }));
  ASSERT_EQ(monitor.stop(), 0);
  EXPECT_EQ(monitor.of(pid, "exec").size(), 1u);
  EXPECT_EQ(monitor.summary_count("lost"), 0u);
}

}  // namespace
}  // namespace procsentry::test
