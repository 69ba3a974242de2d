// --output with rotation, and outputs that fail, against the real sensor: the files hold the
// newest events as whole JSON lines, private; a dead syslog server costs only its own events.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

class OutputsCli : public SensorTestWithDir {
 protected:
  OutputsCli() : SensorTestWithDir("outputs") {}
  static std::vector<std::string> lines_of(const fs::path& file) {
    std::vector<std::string> lines;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

TEST_F(OutputsCli, OutputFileRotatesAndKeepsTheNewestEventsAsWholeLines) {
  const fs::path file = dir_ / "events.jsonl";
  Monitor monitor({"--output", file.string(), "--rotate", "4K", "--keep-files", "3"});
  const std::string marker = "rotate-" + std::to_string(getpid());
  std::vector<pid_t> pids;
  for (int i = 0; i < 40; ++i) pids.push_back(run("/bin/echo", {"echo", marker, std::to_string(i)}).first);
  ASSERT_EQ(monitor.stop(), 0);

  // Oldest first: events.jsonl.3, .2, .1, then events.jsonl; .4 never exists.
  EXPECT_FALSE(fs::exists(dir_ / "events.jsonl.4"));
  std::vector<nlohmann::json> kept;
  for (const auto& f : {dir_ / "events.jsonl.3", dir_ / "events.jsonl.2", dir_ / "events.jsonl.1", file}) {
    ASSERT_TRUE(fs::exists(f)) << f;
    struct stat st {};
    ASSERT_EQ(stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
    const auto lines = lines_of(f);
    // Over the limit only if one line alone is (another process on the machine may have a long
    // command line): rotation never splits a line.
    if (lines.size() > 1) {
      EXPECT_LE(st.st_size, 4096) << f;
    }
    for (const auto& line : lines) kept.push_back(nlohmann::json::parse(line));  // whole lines only
  }
  // They are exactly the newest events the live stream showed, in order.
  const auto& live = monitor.events();
  ASSERT_GE(live.size(), kept.size());
  ASSERT_FALSE(kept.empty());
  const std::vector<nlohmann::json> newest(live.end() - static_cast<std::ptrdiff_t>(kept.size()), live.end());
  EXPECT_EQ(kept, newest);
  bool last_exec_kept = false;
  for (const auto& e : kept) last_exec_kept = last_exec_kept || (e["event"] == "exec" && e["pid"] == pids.back());
  EXPECT_TRUE(last_exec_kept);
}

// A syslog server that never answers must not cost the database or the live view anything.
TEST_F(OutputsCli, ADeadSyslogServerCostsOnlyItsOwnEvents) {
  const std::string db = (dir_ / "events.db").string();
  // Port 9 (discard) on loopback: nothing listens, every connection is refused.
  Monitor monitor({"record", "--db", db, "--print", "--syslog", "tcp://127.0.0.1:9"});
  const std::string marker = "dead-syslog-" + std::to_string(getpid());
  std::vector<pid_t> pids;
  for (int i = 0; i < 20; ++i) pids.push_back(run("/bin/echo", {"echo", marker, std::to_string(i)}).first);
  ASSERT_EQ(monitor.stop(), 0);
  for (pid_t pid : pids) EXPECT_EQ(monitor.of(pid, "exec").size(), 1u) << pid;  // the live view had all
  const std::string said = monitor.stderr_text();
  EXPECT_NE(said.find("syslog tcp://127.0.0.1:9: cannot connect: Connection refused"), std::string::npos) << said;
  // The recording's line counts every event the sensor delivered; syslog says what it could not send.
  EXPECT_NE(said.find("events recorded to " + db), std::string::npos) << said;
  EXPECT_NE(said.find("syslog tcp://127.0.0.1:9: 0 events written"), std::string::npos) << said;
}

// Nothing would be written anywhere: one line and status 2, never a silent run (no sensor
// is loaded, so no root is needed).
TEST(OutputsStart, QuietWithNoOtherOutputIsRefused) {
  const Captured o = capture(procsentry_binary(), {procsentry_binary(), "--quiet"}, {}, std::chrono::seconds(30));
  ASSERT_TRUE(WIFEXITED(o.status)) << o.err;
  EXPECT_EQ(WEXITSTATUS(o.status), 2) << o.err;
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find("--quiet"), std::string::npos) << o.err;
  EXPECT_TRUE(o.out.empty()) << o.out;
}

}  // namespace
}  // namespace procsentry::test
