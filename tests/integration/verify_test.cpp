// procsentry verify on what a real run wrote: a clean --output file and store verify; lines
// deleted from the file are named exactly; heartbeats arrive with --heartbeat 1; garbage is one
// line and status 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

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
