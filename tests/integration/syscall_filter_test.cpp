// --seccomp on the real monitor: a storm under the allow-list arrives whole, and the monitor
// still stops cleanly (its exit path runs under the filter too).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

// The sanitizers' runtimes make calls of their own the monitor never makes (LeakSanitizer
// ptraces the process at exit): the filter is tested in the plain build only.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST(SyscallFilter, AStormUnderTheAllowListArrivesWhole) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  const std::string out = "/tmp/procsentry-seccomp." + std::to_string(getpid()) + ".jsonl";
  Monitor monitor({"--seccomp", "--hash", "sha256", "--output", out});
  std::ifstream status("/proc/" + std::to_string(monitor.pid()) + "/status");
  std::string line;
  bool filtered = false;
  while (std::getline(status, line)) filtered = filtered || line == "Seccomp:\t2";
  EXPECT_TRUE(filtered) << "no seccomp filter on the monitor";
  const std::string tag = "seccomp-storm-" + std::to_string(getpid());
  constexpr int kExecs = 500;
  for (int i = 0; i < kExecs; ++i) {
    auto [pid, code] = run("/usr/bin/true", {"true", tag, std::to_string(i)});
    ASSERT_EQ(WEXITSTATUS(code), 0);
  }
  ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();
  std::remove(out.c_str());
  std::set<std::string> seen;
  for (const auto& e : monitor.events()) {
    if (e.at("event") == "exec" && e.at("argv").size() == 3 && e.at("argv")[1] == tag) seen.insert(e.at("argv")[2]);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kExecs));
  EXPECT_EQ(monitor.summary_count("lost"), 0u);
}
#endif

}  // namespace
}  // namespace procsentry::test
