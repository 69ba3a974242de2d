// The process table against a fake /proc and synthetic records: identities, seeding,
// lineage, reparenting, pid reuse and the memory bound.
#include "core/process_table.h"

#include <gtest/gtest.h>

#include "core/decode.h"
#include "platform/linux/proc_processes.h"
#include "support/fake_proc.h"
#include "support/record_builder.h"

namespace procsentry {
namespace {

using test::FakeProc;
using test::FakeProcess;
using test::TaskSpec;

constexpr std::uint64_t kTickNs = 10'000'000;

class ProcessTableTest : public ::testing::Test {
 protected:
  ProcessTableTest() {
    proc_.add(FakeProcess{1, 0, 5, "init", "/sbin/init", {"/sbin/init", "splash"}, 0, "/init.scope"});
    proc_.add(FakeProcess{100, 1, 900, "bash", "/usr/bin/bash", {"-bash"}, 1000, "/user.slice/session-1.scope"});
  }
  ProcessTable make_table(bool ancestry = false) { return ProcessTable(scheme_, ProcessTableOptions{&os_, ancestry}); }
  // Decodes, enriches and applies one record, as the pipeline does; returns the event as
  // the sinks saw it (copied fields only).
  struct Seen {
    bool kept = false;
    std::string process_uid, parent_uid, parent_image, parent_argv, known_image;
    std::vector<std::pair<std::uint32_t, std::string>> ancestry;
  };
  Seen feed(ProcessTable& table, const test::Bytes& record) {
    record_ = record;
    auto decoded = decoder_.decode(record_);
    EXPECT_TRUE(decoded.has_value());
    Event& e = **decoded;
    Seen seen;
    seen.kept = table.enrich(e);
    if (!seen.kept) return seen;
    seen.process_uid = std::string(e.process_uid.view());
    seen.parent_uid = std::string(e.parent_uid.view());
    seen.parent_image = std::string(e.parent_image.bytes);
    seen.parent_argv = std::string(e.parent_argv_raw.bytes);
    seen.known_image = std::string(e.known_image.bytes);
    for (const auto& a : e.ancestry) seen.ancestry.emplace_back(a.pid, std::string(a.image));
    table.apply(e);
    return seen;
  }
  static TaskSpec task(std::uint32_t pid, std::uint32_t ppid, std::uint64_t start_ticks) {
    TaskSpec t;
    t.pid = t.tid = pid;
    t.ppid = ppid;
    t.start_time_ns = start_ticks * kTickNs + 1234567;  // ns resolution, within the tick
    return t;
  }
  static test::Bytes exec(const TaskSpec& t, const std::string& image, std::vector<std::string> argv) {
    test::ExecSpec spec;
    spec.task = t;
    spec.image = spec.filename = image;
    spec.argv = std::move(argv);
    return test::exec_record(spec);
  }

  FakeProc proc_;
  ProcProcesses os_{proc_.root()};
  ProcessUidScheme scheme_{"b44953de-759c-40a4-bfc2-95cd2aea5f80", kTickNs};
  Decoder decoder_{ClockMapping{0}};
  test::Bytes record_;
};

TEST(ProcessUid, FormatIsBootPidAndStartTicks) {
  ProcessUidScheme scheme("B44953DE-759c-40a4", kTickNs);
  EXPECT_EQ(scheme.make(4242, 622912).view(), "b44953de-4242-622912");
  // The kernel's ns start time and /proc's tick start time give the same identity.
  EXPECT_EQ(scheme.from_raw_start(4242, 6'229'129'999'999).view(), "b44953de-4242-622912");
  EXPECT_NE(scheme.make(4242, 622913), scheme.make(4242, 622912));
  EXPECT_EQ(ProcessUidScheme("", 100).make(1, 2).view(), "00000000-1-2");
}

TEST_F(ProcessTableTest, SeedsEveryProcessFromProc) {
  auto table = make_table();
  table.seed_from_os();
  ASSERT_EQ(table.size(), 2u);
  const ProcessRecord* bash = table.find(100);
  ASSERT_NE(bash, nullptr);
  EXPECT_TRUE(bash->seeded);
  EXPECT_EQ(bash->ppid, 1u);
  EXPECT_EQ(bash->uid, 1000u);
  EXPECT_EQ(bash->image, "/usr/bin/bash");
  EXPECT_EQ(bash->argv, std::string("-bash\0", 6));
  EXPECT_EQ(bash->cgroup, "/user.slice/session-1.scope");
  EXPECT_EQ(bash->process_uid.view(), "b44953de-100-900");
}

TEST_F(ProcessTableTest, ExecOfASeededParentsChildCarriesTheParent) {
  auto table = make_table();
  table.seed_from_os();
  feed(table, test::fork_record(task(200, 100, 1000), 100, 900 * kTickNs));
  auto seen = feed(table, exec(task(200, 100, 1000), "/usr/bin/ls", {"ls", "-l"}));
  EXPECT_EQ(seen.process_uid, "b44953de-200-1000");
  EXPECT_EQ(seen.parent_uid, "b44953de-100-900");
  EXPECT_EQ(seen.parent_image, "/usr/bin/bash");
  EXPECT_EQ(seen.parent_argv, std::string("-bash\0", 6));
  // The exit of a seeded process names its image and the same identity.
  auto exit = feed(table, test::exit_record(task(100, 1, 900), 0, 5'000'000'000'000));
  EXPECT_EQ(exit.known_image, "/usr/bin/bash");
  EXPECT_EQ(exit.process_uid, "b44953de-100-900");
}

TEST_F(ProcessTableTest, ForkInheritsImageUntilExec) {
  auto table = make_table();
  table.seed_from_os();
  auto fork = feed(table, test::fork_record(task(300, 100, 2000), 100, 900 * kTickNs));
  EXPECT_EQ(fork.parent_uid, "b44953de-100-900");
  EXPECT_EQ(fork.known_image, "/usr/bin/bash");
  EXPECT_EQ(table.find(300)->image, "/usr/bin/bash");
  feed(table, exec(task(300, 100, 2000), "/usr/bin/make", {"make", "all"}));
  EXPECT_EQ(table.find(300)->image, "/usr/bin/make");
  EXPECT_FALSE(table.find(300)->seeded);
}

TEST_F(ProcessTableTest, PidReuseGivesANewIdentity) {
  auto table = make_table();
  auto first = feed(table, exec(task(400, 1, 3000), "/usr/bin/true", {"true"}));
  feed(table, test::exit_record(task(400, 1, 3000), 0, 31 * 1'000'000'000ull));
  auto second = feed(table, exec(task(400, 1, 4000), "/usr/bin/false", {"false"}));
  EXPECT_NE(first.process_uid, second.process_uid);
  EXPECT_EQ(second.process_uid, "b44953de-400-4000");
  // Even when the first one's exit was lost, the reused pid replaces the stale entry.
  feed(table, exec(task(400, 1, 5000), "/usr/bin/yes", {"yes"}));
  EXPECT_EQ(table.find(400)->process_uid.view(), "b44953de-400-5000");
  EXPECT_EQ(table.find(400)->image, "/usr/bin/yes");
}

TEST_F(ProcessTableTest, DuplicateExitIsDroppedOnce) {
  auto table = make_table();
  feed(table, exec(task(500, 1, 3000), "/usr/bin/true", {"true"}));
  auto exit = test::exit_record(task(500, 1, 3000), 0, 40'000'000'000);
  EXPECT_TRUE(feed(table, exit).kept);
  EXPECT_FALSE(feed(table, exit).kept);
}

TEST_F(ProcessTableTest, ExitedProcessesAreForgotten) {
  auto table = make_table();
  for (std::uint32_t pid = 1000; pid < 1000 + 2 * ProcessTable::kRecentExits; ++pid) {
    feed(table, test::fork_record(task(pid, 1, pid), 1, 5 * kTickNs));
    feed(table, test::exit_record(task(pid, 1, pid), 0, 50'000'000'000));
  }
  EXPECT_EQ(table.size(), 0u);
}

// Exited records are recycled (the oldest recent exit's buffers serve the next fork or
// exec): nothing of a recycled record may show, and recent exits stay newest first.
TEST_F(ProcessTableTest, RecycledRecordsCarryNothingStale) {
  auto table = make_table();
  const std::uint32_t n = 3 * (ProcessTable::kRecentExits + ProcessTable::kSpareRecords);
  for (std::uint32_t pid = 2000; pid < 2000 + n; ++pid) {
    feed(table, test::fork_record(task(pid, 1, pid), 1, 5 * kTickNs));
    const std::string image = "/usr/bin/prog-" + std::to_string(pid);
    feed(table, exec(task(pid, 1, pid), image, {image, "--long-enough-not-to-fit-in-place", std::to_string(pid)}));
    auto exit = feed(table, test::exit_record(task(pid, 1, pid), 0, 50'000'000'000));
    EXPECT_EQ(exit.known_image, image);
  }
  EXPECT_EQ(table.size(), 0u);
  // A parent nobody knows: the recycled record it lands in shows no image, argv or cgroup.
  auto orphan = feed(table, test::fork_record(task(9000, 8999, 9000), 8999, 8999 * kTickNs));
  EXPECT_EQ(orphan.known_image, "");
  const ProcessRecord* r = table.find(9000);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->image, "");
  EXPECT_EQ(r->argv, "");
  EXPECT_EQ(r->cgroup, "");
  // The child of a recently exited parent still learns its image, from the newest exits...
  const std::uint32_t last = 2000 + n - 1;
  auto child = feed(table, test::fork_record(task(9001, last, 9001), last, last * kTickNs));
  EXPECT_EQ(child.known_image, "/usr/bin/prog-" + std::to_string(last));
  EXPECT_EQ(table.find(9001)->argv, "/usr/bin/prog-" + std::to_string(last) +
                                        std::string("\0--long-enough-not-to-fit-in-place\0", 35) +
                                        std::to_string(last) + std::string(1, '\0'));
  // ...as far back as kRecentExits exits, and no further.
  const std::uint32_t oldest = last - ProcessTable::kRecentExits + 1;
  auto kept = test::exit_record(task(oldest, 1, oldest), 0, 50'000'000'000);
  EXPECT_FALSE(feed(table, kept).kept);  // a duplicate: still remembered
  auto evicted = test::exit_record(task(oldest - 1, 1, oldest - 1), 0, 50'000'000'000);
  EXPECT_TRUE(feed(table, evicted).kept);  // forgotten: no longer recognised as a duplicate
}

TEST_F(ProcessTableTest, AncestryRunsUpToInit) {
  auto table = make_table(true);
  table.seed_from_os();
  feed(table, test::fork_record(task(600, 100, 6000), 100, 900 * kTickNs));
  feed(table, exec(task(600, 100, 6000), "/usr/bin/make", {"make"}));
  feed(table, test::fork_record(task(601, 600, 6001), 600, 6000 * kTickNs));
  auto seen = feed(table, exec(task(601, 600, 6001), "/usr/bin/cc", {"cc"}));
  std::vector<std::pair<std::uint32_t, std::string>> expected{
      {600, "/usr/bin/make"}, {100, "/usr/bin/bash"}, {1, "/sbin/init"}};
  EXPECT_EQ(seen.ancestry, expected);
}

TEST_F(ProcessTableTest, ReparentedChildFollowsTheKernel) {
  // 700 (subreaper) -> 701 -> 702; 701 exits and the kernel moves 702 to 700.
  proc_.add(FakeProcess{700, 1, 7000, "reaper", "/usr/bin/reaper", {"reaper"}, 0, "/"});
  proc_.add(FakeProcess{701, 700, 7001, "mid", "/usr/bin/mid", {"mid"}, 0, "/"});
  proc_.add(FakeProcess{702, 701, 7002, "leaf", "/usr/bin/leaf", {"leaf"}, 0, "/"});
  auto table = make_table(true);
  table.seed_from_os();
  feed(table, test::exit_record(task(701, 700, 7001), 0, 80'000'000'000));
  proc_.remove(701);
  proc_.add(FakeProcess{702, 700, 7002, "leaf", "/usr/bin/leaf", {"leaf"}, 0, "/"});
  const ProcessRecord* parent = table.parent_of(*table.find(702));
  ASSERT_NE(parent, nullptr);
  EXPECT_EQ(parent->pid, 700u);
  EXPECT_EQ(table.find(702)->ppid, 700u);
  // The child's next exec names the new parent, as the kernel reports it.
  auto seen = feed(table, exec(task(702, 700, 7002), "/usr/bin/true", {"true"}));
  EXPECT_EQ(seen.parent_uid, "b44953de-700-7000");
  EXPECT_EQ(seen.parent_image, "/usr/bin/reaper");
}

TEST_F(ProcessTableTest, PruneDropsWhatVanishedFromProc) {
  auto table = make_table();
  table.seed_from_os();
  feed(table, exec(task(800, 1, 8000), "/usr/bin/sleep", {"sleep"}));  // not in the fake /proc
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.prune_vanished(), 1u);
  EXPECT_EQ(table.find(800), nullptr);
  EXPECT_NE(table.find(100), nullptr);
}

TEST_F(ProcessTableTest, WithoutProcRootNothingIsRead) {
  ProcessTable table(scheme_, ProcessTableOptions{nullptr, false});
  table.seed_from_os();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.prune_vanished(), 0u);
}

}  // namespace
}  // namespace procsentry
