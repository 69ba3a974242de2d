// procsentry verify's judgement on crafted captures: exactly the missing seqs, per boot and
// per run, duplicates, the kernel's losses, late heartbeats, and one clear error for garbage.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "verify/seq_check.h"

namespace procsentry {
namespace {

std::string event(std::uint64_t seq, std::string_view boot = "b1", std::string_view kind = "exec",
                  std::string_view extra = "") {
  return fmt::format(R"({{"event":"{}","time":"2026-11-26T12:00:{:02}.5Z","seq":{},"boot_id":"{}","pid":{}{}}})", kind,
                     seq % 60, seq, boot, seq, extra);
}

std::vector<RunReport> check(const std::vector<std::string>& lines) {
  SeqCheck c;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto added = c.add(lines[i], fmt::format("line {}", i + 1));
    EXPECT_TRUE(added) << added.error().message;
  }
  return c.finish();
}

std::vector<std::string> run_of(std::uint64_t first, std::uint64_t last, std::string_view boot = "b1") {
  std::vector<std::string> lines;
  for (std::uint64_t s = first; s <= last; ++s) lines.push_back(event(s, boot));
  return lines;
}

TEST(Verify, CleanCaptureIsComplete) {
  auto runs = check(run_of(1, 50));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].complete());
  EXPECT_EQ(runs[0].first, 1u);
  EXPECT_EQ(runs[0].last, 50u);
  EXPECT_EQ(runs[0].events, 50u);
  EXPECT_EQ(describe(runs), "boot b1: seq 1..50, 50 events, kernel lost 0, 0 heartbeats\n");
}

TEST(Verify, DeletedLinesAreExactlyTheMissingRanges) {
  auto lines = run_of(1, 20);
  lines.erase(lines.begin() + 11, lines.begin() + 14);  // seqs 12, 13, 14
  lines.erase(lines.begin() + 4);                       // seq 5
  lines.erase(lines.begin());                           // seq 1: a run counts from 1
  auto runs = check(lines);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_FALSE(runs[0].complete());
  EXPECT_EQ(runs[0].missing, (std::vector<SeqRange>{{1, 1}, {5, 5}, {12, 14}}));
  const std::string text = describe(runs);
  EXPECT_NE(text.find("boot b1: seq 1..1 missing\nboot b1: seq 5..5 missing\nboot b1: seq 12..14 missing\n"),
            std::string::npos)
      << text;
}

TEST(Verify, TwoBootsAreJudgedApart) {
  auto lines = run_of(1, 5, "b1");
  for (auto& l : run_of(1, 3, "b2")) lines.push_back(l);
  lines.erase(lines.begin() + 2);  // b1's seq 3
  auto runs = check(lines);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].boot, "b1");
  EXPECT_EQ(runs[0].missing, (std::vector<SeqRange>{{3, 3}}));
  EXPECT_EQ(runs[1].boot, "b2");
  EXPECT_TRUE(runs[1].complete());
}

TEST(Verify, DuplicateLinesAreCountedNotMissingNotARestart) {
  auto lines = run_of(1, 5);
  lines.insert(lines.begin() + 1, lines[0]);  // seq 1 twice, byte for byte
  lines.push_back(lines[3]);
  auto runs = check(lines);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].complete());
  EXPECT_EQ(runs[0].duplicates, 2u);
  EXPECT_EQ(runs[0].events, 5u);
}

TEST(Verify, ARestartOnTheSameBootIsANewRun) {
  auto lines = run_of(1, 4);
  lines.push_back(event(1, "b1", "fork"));  // another seq 1: procsentry started again
  lines.push_back(event(3, "b1", "fork"));
  auto runs = check(lines);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_TRUE(runs[0].complete());
  EXPECT_EQ(runs[1].missing, (std::vector<SeqRange>{{2, 2}}));
}

TEST(Verify, KernelLossesAreTotalledByCause) {
  auto lines = run_of(1, 2);
  lines.push_back(event(3, "b1", "lost", R"(,"count":7,"cause":"ringbuf_full")"));
  lines.push_back(event(4, "b1", "lost", R"(,"count":5,"cause":"ringbuf_full")"));
  auto runs = check(lines);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_FALSE(runs[0].complete()) << "what the kernel dropped is missing too";
  EXPECT_EQ(runs[0].kernel_lost.at("ringbuf_full"), 12u);
  EXPECT_NE(describe(runs).find("kernel lost 12 (ringbuf_full 12)"), std::string::npos);
}

TEST(Verify, AHeartbeatMoreThanTwoIntervalsAfterTheLastIsLate) {
  auto beat = [](std::uint64_t seq, std::string_view time) {
    return fmt::format(R"({{"event":"heartbeat","time":"{}","seq":{},"boot_id":"b1","interval_s":10}})", time, seq);
  };
  auto runs = check({beat(1, "2026-11-26T12:00:00.000000001Z"), beat(2, "2026-11-26T12:00:20.000000001Z"),
                     beat(3, "2026-11-26T12:00:40.5Z")});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].heartbeats, 3u);
  ASSERT_EQ(runs[0].late.size(), 1u);
  EXPECT_EQ(runs[0].late[0].time, "2026-11-26T12:00:40.5Z");
  EXPECT_NEAR(runs[0].late[0].gap_s, 20.5, 1e-6);
}

TEST(Verify, EcsAndOcsfSequencesAreRead) {
  auto runs = check({R"({"event":{"kind":"event","sequence":1},"host":{"boot":{"id":"b9"}}})",
                     R"({"metadata":{"sequence":2},"unmapped":{"boot_id":"b9"}})"});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].boot, "b9");
  EXPECT_TRUE(runs[0].complete());
}

TEST(Verify, GarbageIsOneClearError) {
  SeqCheck c;
  EXPECT_TRUE(c.add(event(1), "line 1"));
  auto garbage = c.add("{\"event\":\"exec\",\"seq\":", "line 2");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().message, "line 2: not a JSON object");
  auto unnumbered = c.add(R"({"event":"exec","pid":1})", "line 3");
  ASSERT_FALSE(unnumbered);
  EXPECT_NE(unnumbered.error().message.find("line 3: no seq"), std::string::npos);
}

}  // namespace
}  // namespace procsentry
