// One identity per process on Windows: the driver's create and exit records of a process get
// the same process_uid in the client, and a child's parent_uid is its parent's own, all the
// way through the client's decode path (client_path.h).
#include <gtest/gtest.h>

#include "client_path.h"
#include "driver_fixture.h"

namespace procsentry::driver_test {
namespace {

// 100 ns units since 1601, as PsGetProcessCreateTimeQuadPart: distinct per process.
constexpr LONGLONG kParentCreated = 133'500'000'000'000'001LL;
constexpr LONGLONG kChildCreated = 133'500'000'123'456'789LL;

class DriverIdentity : public DriverFixture {
 protected:
  // A process started `created`, at pid `pid`, child of `ppid`.
  static void start(FakeProcess& p, LONGLONG created) {
    p.eprocess.create_time = created;
    ASSERT_TRUE(p.create());
  }
  ClientPath client;
};

TEST_F(DriverIdentity, CreateAndExitOfAProcessGetTheSameUid) {
  FakeProcess p(1000, 4, u"\\??\\C:\\a.exe", u"a.exe", 0);
  start(p, kChildCreated);
  ASSERT_TRUE(p.exit());
  ASSERT_TRUE(client.read_all(&driver_));
  auto seen = client.of(1000);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, EventKind::create);
  EXPECT_EQ(seen[1].kind, EventKind::exit);
  EXPECT_FALSE(seen[0].process_uid.empty());
  EXPECT_EQ(seen[0].process_uid, seen[1].process_uid);
  // The creation time, not the callback's clock: 1601 -> 1970 is 11644473600 s.
  EXPECT_EQ(seen[0].process_uid,
            client.scheme.from_raw_start(1000, static_cast<std::uint64_t>(kChildCreated - 116444736000000000LL) * 100)
                .view());
  EXPECT_EQ(client.decode_errors(), 0u);
}

TEST_F(DriverIdentity, ChildsParentUidIsTheParentsOwnCreateUid) {
  FakeProcess parent(2000, 4, u"\\??\\C:\\parent.exe", u"parent.exe", 0);
  start(parent, kParentCreated);
  FakeProcess child(2004, 2000, u"\\??\\C:\\child.exe", u"child.exe", 0);
  start(child, kChildCreated);
  ASSERT_TRUE(child.exit());
  ASSERT_TRUE(parent.exit());
  ASSERT_TRUE(client.read_all(&driver_));
  auto p = client.of(2000);
  auto c = client.of(2004);
  ASSERT_EQ(p.size(), 2u);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_NE(p[0].process_uid, c[0].process_uid);
  EXPECT_EQ(c[0].parent_uid, p[0].process_uid) << "child's create names its parent";
  EXPECT_EQ(c[1].process_uid, c[0].process_uid);
  EXPECT_EQ(p[1].process_uid, p[0].process_uid);
  // The parent's own parent, System, was never seen by the client: named all the same.
  EXPECT_EQ(
      p[0].parent_uid,
      client.scheme.from_raw_start(4, static_cast<std::uint64_t>(kemu::kSystemCreateTime - 116444736000000000LL) * 100)
          .view());
}

TEST_F(DriverIdentity, AParentStartedBeforeTheClientIsNamedAsItsExitNamesIt) {
  FakeProcess parent(3000, 4, u"\\??\\C:\\svc.exe", u"svc.exe", 0);
  start(parent, kParentCreated);
  ClientPath earlier;
  ASSERT_TRUE(earlier.read_all(&driver_));  // another client took the parent's create
  FakeProcess child(3004, 3000, u"\\??\\C:\\child.exe", u"child.exe", 0);
  start(child, kChildCreated);
  ASSERT_TRUE(parent.exit());
  ASSERT_TRUE(client.read_all(&driver_));
  auto c = client.of(3004);
  auto p = client.of(3000);
  ASSERT_EQ(c.size(), 1u);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].kind, EventKind::exit);
  EXPECT_EQ(c[0].parent_uid, p[0].process_uid);
  EXPECT_EQ(c[0].parent_uid, earlier.of(3000).at(0).process_uid);
}

TEST_F(DriverIdentity, AReusedParentPidIsNotTakenForTheEarlierProcess) {
  {
    FakeProcess first(4000, 4, u"\\??\\C:\\first.exe", u"first.exe", 0);
    start(first, kParentCreated);
    // exits without the client seeing it: the table still holds the first process
  }
  FakeProcess second(4000, 4, u"\\??\\C:\\second.exe", u"second.exe", 0);
  start(second, kParentCreated + 1'000'000);
  ASSERT_TRUE(client.read_all(&driver_));  // both creates: the table now has the second
  FakeProcess child(4004, 4000, u"\\??\\C:\\child.exe", u"child.exe", 0);
  start(child, kChildCreated);
  ASSERT_TRUE(client.read_all(&driver_));
  auto p = client.of(4000);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[0].process_uid, p[1].process_uid) << "same pid, different creation: different processes";
  EXPECT_EQ(client.of(4004).at(0).parent_uid, p[1].process_uid);
}

TEST_F(DriverIdentity, AParentTheKernelCannotFindLeavesTheParentUnknown) {
  FakeProcess orphan(5000, 4988, u"\\??\\C:\\orphan.exe", u"orphan.exe", 0);  // 4988 was never added
  start(orphan, kChildCreated);
  ASSERT_TRUE(client.read_all(&driver_));
  auto seen = client.of(5000);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].parent_uid.empty());
  EXPECT_FALSE(seen[0].process_uid.empty());
}

// Many callbacks at once look their parents up: every reference taken is released (the
// fixture's TearDown checks none is left), and every child names its parent.
TEST_F(DriverIdentity, ConcurrentLookupsReleaseEveryReference) {
  constexpr ULONG kThreads = 4;
  constexpr ULONG kPerThread = 500;
  FakeProcess parent(6000, 4, u"\\??\\C:\\p.exe", u"p.exe", 0);
  start(parent, kParentCreated);
  std::vector<std::thread> threads;
  for (ULONG t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (ULONG i = 0; i < kPerThread; ++i) {
        FakeProcess child(static_cast<ULONG>(7000 + 4 * (t * kPerThread + i)), 6000, u"c.exe", u"c", 0);
        child.eprocess.create_time = kChildCreated + i;
        child.create();
        child.exit();
      }
    });
  }
  // Read while they run: the queue (4,096 records) must not fill.
  std::size_t events = 0;
  ASSERT_TRUE(arrives(
      [&] {
        client.read_all(&driver_);
        events = client.events().size();
        return events >= 1 + 2 * kThreads * kPerThread;
      },
      "every child's create and exit"));
  for (auto& t : threads) t.join();
  const std::string parent_uid = client.of(6000).at(0).process_uid;
  for (const SeenEvent& e : client.events()) {
    if (e.kind == EventKind::create && e.pid != 6000) {
      ASSERT_EQ(e.parent_uid, parent_uid) << e.pid;
    }
  }
}

}  // namespace
}  // namespace procsentry::driver_test
