// procsentry verify on what a real run wrote: a clean --output file and store verify; lines
// deleted from the file are named exactly; heartbeats arrive with --heartbeat 1; garbage is one
// line and status 2.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "integration/monitor.h"
#include "support/spawn.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

class VerifyCli : public SensorTestWithDir {
 protected:
  VerifyCli() : SensorTestWithDir("verify") {}
  static Captured verify(const std::vector<std::string>& args) {
    std::vector<std::string> argv{procsentry_binary(), "verify"};
    argv.insert(argv.end(), args.begin(), args.end());
    return capture(argv[0], argv);
  }
  static std::vector<std::string> lines_of(const fs::path& file) {
    std::vector<std::string> lines;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

TEST_F(VerifyCli, ARealRunVerifiesCleanAndDeletedLinesAreNamedExactly) {
  const fs::path file = dir_ / "events.jsonl";
  const std::string db = (dir_ / "events.db").string();
  Monitor monitor({"record", "--db", db, "--print", "--json", "--output", file.string(), "--heartbeat", "1"});
  for (int i = 0; i < 10; ++i) run("/bin/echo", {"echo", "verify", std::to_string(i)});
  // Heartbeats arrive with --heartbeat 1, and two of them let verify judge their timing.
  int beats = 0;
  ASSERT_TRUE(monitor.wait_for_event([&](const nlohmann::json& e) { return e["event"] == "heartbeat" && ++beats == 2; },
                                     std::chrono::seconds(30)));
  ASSERT_EQ(monitor.stop(), 0);
  std::uint64_t heartbeats = 0;
  for (const auto& e : monitor.events()) {
    if (e["event"] != "heartbeat") continue;
    ++heartbeats;
    EXPECT_EQ(e["interval_s"], 1);
    EXPECT_TRUE(e["emitted"].contains("exec")) << e;
    EXPECT_TRUE(e["dropped"].is_object()) << e;
  }
  EXPECT_GE(heartbeats, 2u);

  for (const std::vector<std::string>& args : {std::vector<std::string>{file.string()}, {"--db", db}}) {
    const Captured clean = verify(args);
    EXPECT_EQ(WEXITSTATUS(clean.status), 0) << args.back() << "\n" << clean.out << clean.err;
    EXPECT_NE(clean.out.find("\ncomplete\n"), std::string::npos) << clean.out;
    EXPECT_EQ(clean.out.find("missing"), std::string::npos) << clean.out;
  }

  // Delete the 3rd line and the 6th-7th: verify names exactly their seqs.
  auto lines = lines_of(file);
  ASSERT_GE(lines.size(), 8u);
  std::vector<std::uint64_t> seqs;
  for (const auto& l : lines) seqs.push_back(nlohmann::json::parse(l).at("seq").get<std::uint64_t>());
  const std::string boot = nlohmann::json::parse(lines[0]).at("boot_id");
  std::ofstream cut(dir_ / "cut.jsonl");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i != 2 && i != 5 && i != 6) cut << lines[i] << '\n';
  }
  cut.close();
  const Captured gaps = verify({(dir_ / "cut.jsonl").string()});
  EXPECT_EQ(WEXITSTATUS(gaps.status), 1) << gaps.out << gaps.err;
  auto range = [&](std::uint64_t first, std::uint64_t last) {
    return "boot " + boot + ": seq " + std::to_string(first) + ".." + std::to_string(last) + " missing\n";
  };
  const std::string expected = range(seqs[2], seqs[2]) + range(seqs[5], seqs[6]);
  EXPECT_NE(gaps.out.find(expected), std::string::npos) << gaps.out;
  std::size_t missing_lines = 0;
  for (std::size_t at = gaps.out.find("missing"); at != std::string::npos; at = gaps.out.find("missing", at + 1)) {
    ++missing_lines;
  }
  EXPECT_EQ(missing_lines, 2u) << gaps.out;
  EXPECT_NE(gaps.out.find("\nincomplete\n"), std::string::npos) << gaps.out;

  // The same capture on standard input.
  const Captured piped = capture(
      "/bin/sh", {"sh", "-c", "exec \"$0\" verify - < \"$1\"", procsentry_binary(), (dir_ / "cut.jsonl").string()});
  EXPECT_EQ(WEXITSTATUS(piped.status), 1) << piped.err;
  EXPECT_NE(piped.out.find(expected), std::string::npos) << piped.out;
}

// A stalled output: nobody reads the FIFO behind --output, so its backlog (--output-backlog)
// fills and its events are dropped. The heartbeats that reach it count the drops, and verify
// finds exactly that many seqs missing.
TEST_F(VerifyCli, AStalledOutputsDropsAreExactlyTheSeqsVerifyFindsMissing) {
  const fs::path fifo = dir_ / "stalled.fifo";
  const fs::path drained = dir_ / "drained.jsonl";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Our read end first, so that procsentry's open for writing does not wait; nothing reads it
  // until the storm is over.
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  Monitor monitor({"--output", fifo.string(), "--output-backlog", "64", "--heartbeat", "1"});
  // 300 execs (900 events) cannot fit the pipe (64 KiB) and a backlog of 64.
  for (int i = 0; i < 300; ++i) run("/bin/true", {"true"});

  ASSERT_EQ(fcntl(reader, F_SETFL, 0), 0);  // blocking reads from now on
  std::thread drain([&] {
    std::ofstream out(drained, std::ios::binary);
    char buffer[65536];
    for (ssize_t n; (n = read(reader, buffer, sizeof buffer)) > 0;) out.write(buffer, n).flush();
  });
  // A marker after the storm, then a heartbeat after the marker: every drop is counted by then.
  const auto [marker, marker_status] = run("/bin/echo", {"echo", "stalled-output-done"});
  ASSERT_EQ(marker_status, 0);
  nlohmann::json last_beat;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (std::uint64_t marker_seq = 0; last_beat.is_null() && std::chrono::steady_clock::now() < deadline;) {
    std::ifstream in(drained);
    for (std::string line; std::getline(in, line);) {
      const auto e = nlohmann::json::parse(line, nullptr, false);
      if (e.is_discarded()) break;  // a line still being written
      if (e["event"] == "exec" && e["pid"] == marker) marker_seq = e["seq"];
      if (e["event"] == "heartbeat" && marker_seq != 0 && e["seq"] > marker_seq) last_beat = e;
    }
    if (last_beat.is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling the file
  }
  EXPECT_EQ(monitor.stop(), 0);
  drain.join();
  close(reader);
  ASSERT_FALSE(last_beat.is_null()) << "no heartbeat after the marker reached the drained output";

  std::uint64_t dropped = 0;
  for (const auto& [output, count] : last_beat["dropped"].items()) {
    if (output.find(fifo.string()) != std::string::npos) dropped = count.get<std::uint64_t>();
  }
  ASSERT_GT(dropped, 0u) << last_beat;
  const Captured result = verify({drained.string()});
  EXPECT_EQ(WEXITSTATUS(result.status), 1) << result.out << result.err;
  // "boot B: seq FIRST..LAST missing", one line per gap.
  std::uint64_t missing = 0;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    const auto seq = line.find(": seq ");
    const auto dots = line.find("..", seq);
    if (seq == std::string::npos || dots == std::string::npos || !line.ends_with(" missing")) continue;
    missing += std::stoull(line.substr(dots + 2)) - std::stoull(line.substr(seq + 6)) + 1;
  }
  EXPECT_EQ(missing, dropped) << result.out << last_beat;
}

TEST_F(VerifyCli, GarbageIsOneLineAndStatus2) {
  const fs::path file = dir_ / "garbage.jsonl";
  std::ofstream(file) << R"({"event":"exec","seq":1,"boot_id":"b"})"
                      << "\nnot json\n";
  const Captured r = verify({file.string()});
  EXPECT_EQ(WEXITSTATUS(r.status), 2);
  EXPECT_EQ(r.err, "procsentry: verify: " + file.string() + " line 2: not a JSON object\n");
  const Captured none = verify({(dir_ / "absent").string()});
  EXPECT_EQ(WEXITSTATUS(none.status), 2);
  EXPECT_EQ(std::count(none.err.begin(), none.err.end(), '\n'), 1) << none.err;
}

}  // namespace
}  // namespace procsentry::test
