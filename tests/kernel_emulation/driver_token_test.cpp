// Who a new process runs as: the driver reads the primary token in the create callback
// (process_token.cpp) and the client decodes it, through the client's own path
// (client_path.h). Every token reference and query handle is released on every path, the
// refused ones included (the fixture's TearDown counts them).
#include <gtest/gtest.h>

#include "client_path.h"
#include "driver_fixture.h"

namespace procsentry::driver_test {
namespace {

constexpr const char* kUser = "S-1-5-21-3623811015-3361044348-30300820-1013";

class DriverToken : public DriverFixture {
 protected:
  // An elevated administrator's process: high integrity, the full half of a split token.
  static void administrator(FakeProcess& p) {
    EmulatedToken& t = p.eprocess.token;
    t.user = kemu::sid_from_string(kUser);
    t.integrity_rid = 0x3000;
    t.elevated = 1;
    t.elevation_type = 2;
    t.logon_id = LUID{0x0004c3a1, 0x2};
    t.type = TokenPrimary;
  }
  SeenEvent created(FakeProcess& p) {
    EXPECT_TRUE(p.create());
    EXPECT_TRUE(client.read_all(&driver_));
    auto seen = client.of(p.pid);
    EXPECT_EQ(seen.size(), 1u);
    EXPECT_EQ(client.decode_errors(), 0u);
    return seen.empty() ? SeenEvent{} : seen[0];
  }
  ClientPath client;
};

TEST_F(DriverToken, EveryFactOfTheTokenReachesTheClient) {
  FakeProcess p(1000, 4, u"\\??\\C:\\Windows\\System32\\cmd.exe", u"cmd.exe", 0);
  administrator(p);
  p.eprocess.session_id = 2;
  const SeenEvent e = created(p);
  EXPECT_EQ(e.user_sid, kUser);
  EXPECT_EQ(e.integrity_rid, 0x3000u);
  EXPECT_EQ(e.elevated, true);
  EXPECT_EQ(e.elevation_type, 2);
  EXPECT_EQ(e.logon_id, 0x2'0004c3a1u) << "HighPart << 32 | LowPart";
  EXPECT_EQ(e.token_type, 1);
  EXPECT_EQ(e.session_id, 2u);
  EXPECT_EQ(kemu::token_queries(), 5u) << "user, integrity, elevation, elevation type, statistics";
}

TEST_F(DriverToken, ALowIntegrityUnelevatedProcessIsToldApart) {
  FakeProcess p(1100, 4, u"\\??\\C:\\b.exe", u"b.exe", 0);
  p.eprocess.token.integrity_rid = 0x1000;
  p.eprocess.token.elevation_type = 3;  // the limited half
  const SeenEvent e = created(p);
  EXPECT_EQ(e.user_sid, "S-1-5-18");
  EXPECT_EQ(e.integrity_rid, 0x1000u);
  EXPECT_EQ(e.elevated, false);
  EXPECT_EQ(e.elevation_type, 3);
  EXPECT_EQ(e.logon_id, 0x3e7u);
}

// Each class the token refuses leaves out its own facts only.
TEST_F(DriverToken, ARefusedQueryLeavesOutItsFactsOnly) {
  struct Case {
    TOKEN_INFORMATION_CLASS refused;
    bool user, integrity, elevation, statistics;
  };
  const Case cases[] = {{TokenUser, false, true, true, true},
                        {TokenIntegrityLevel, true, false, true, true},
                        {TokenElevation, true, true, false, true},
                        {TokenElevationType, true, true, false, true},
                        {TokenStatistics, true, true, true, false}};
  ULONG pid = 2000;
  for (const Case& c : cases) {
    FakeProcess p(pid += 4, 4, u"\\??\\C:\\c.exe", u"c.exe", 0);
    administrator(p);
    p.eprocess.token.failing_classes = 1u << c.refused;
    const SeenEvent e = created(p);
    EXPECT_EQ(!e.user_sid.empty(), c.user) << c.refused;
    EXPECT_EQ(e.integrity_rid.has_value(), c.integrity) << c.refused;
    EXPECT_EQ(e.elevated.has_value(), c.elevation) << c.refused;
    EXPECT_EQ(e.logon_id.has_value(), c.statistics) << c.refused;
    EXPECT_EQ(kemu::token_references(), 0u) << c.refused;
    EXPECT_EQ(kemu::open_handles(), 0u) << c.refused;
  }
}

TEST_F(DriverToken, ATokenThatCannotBeOpenedLeavesEveryFactOutAndIsReleased) {
  FakeProcess p(3000, 4, u"\\??\\C:\\d.exe", u"d.exe", 0);
  administrator(p);
  p.eprocess.token.open_fails = true;
  const SeenEvent e = created(p);
  EXPECT_TRUE(e.user_sid.empty());
  EXPECT_FALSE(e.integrity_rid || e.elevated || e.logon_id);
  EXPECT_EQ(e.image, "\\??\\C:\\d.exe") << "the rest of the record is whole";
  EXPECT_EQ(kemu::token_queries(), 0u);
}

// The accounting the fixture relies on sees a leaked reference, a double release and a
// double close: the checks above can fail.
TEST(DriverTokenAccounting, LeaksAndDoubleReleasesAreCounted) {
  kemu::reset();
  FakeProcess p(4000, 4, u"e.exe", u"e", 0);
  PACCESS_TOKEN token = PsReferencePrimaryToken(&p.eprocess);
  EXPECT_EQ(kemu::token_references(), 1u);
  HANDLE handle = nullptr;
  ASSERT_EQ(ObOpenObjectByPointer(token, OBJ_KERNEL_HANDLE, nullptr, TOKEN_QUERY, nullptr, KernelMode, &handle),
            STATUS_SUCCESS);
  EXPECT_EQ(kemu::open_handles(), 1u);
  EXPECT_EQ(ZwClose(handle), STATUS_SUCCESS);
  EXPECT_EQ(ZwClose(handle), STATUS_INVALID_HANDLE);
  ULONG returned = 0;
  TOKEN_ELEVATION elevation{};
  EXPECT_EQ(ZwQueryInformationToken(handle, TokenElevation, &elevation, sizeof(elevation), &returned),
            STATUS_INVALID_HANDLE);
  PsDereferencePrimaryToken(token);
  PsDereferencePrimaryToken(token);
  EXPECT_EQ(kemu::token_references(), 0u);
  EXPECT_EQ(kemu::violations().handle_errors, 2u) << "a double close and a query through a closed handle";
  EXPECT_EQ(kemu::violations().reference_errors, 1u) << "a double release";
  kemu::reset();
}

// Many callbacks at once read their tokens: every reference and handle is released (TearDown)
// and every record carries its own process's user.
TEST_F(DriverToken, ConcurrentCreatesEachCarryTheirOwnUser) {
  constexpr ULONG kThreads = 4;
  constexpr ULONG kPerThread = 300;
  std::vector<std::thread> threads;
  for (ULONG t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (ULONG i = 0; i < kPerThread; ++i) {
        const ULONG n = t * kPerThread + i;
        FakeProcess p(8000 + 4 * n, 4, u"f.exe", u"f", 0);
        p.eprocess.token.user = kemu::sid_from_string("S-1-5-21-1-2-3-" + std::to_string(n));
        p.create();
        p.exit();
      }
    });
  }
  ASSERT_TRUE(arrives(
      [&] {
        client.read_all(&driver_);
        return client.events().size() >= 2 * kThreads * kPerThread;
      },
      "every create and exit"));
  for (auto& t : threads) t.join();
  std::size_t creates = 0;
  for (const SeenEvent& e : client.events()) {
    if (e.kind != EventKind::create) continue;
    ++creates;
    ASSERT_EQ(e.user_sid, "S-1-5-21-1-2-3-" + std::to_string((e.pid - 8000) / 4)) << e.pid;
  }
  EXPECT_EQ(creates, kThreads * kPerThread);
}

// The parent's image and command line come from the client's process table (the parent's
// own create), not from the driver.
TEST_F(DriverToken, TheParentsImageAndCommandLineComeFromTheClientsTable) {
  FakeProcess parent(5000, 4, u"\\??\\C:\\Windows\\explorer.exe", u"explorer.exe /factory", 0);
  ASSERT_TRUE(parent.create());
  FakeProcess child(5004, 5000, u"\\??\\C:\\Windows\\notepad.exe", u"notepad.exe a.txt", 0);
  const SeenEvent e = created(child);
  EXPECT_EQ(e.parent_image, "\\??\\C:\\Windows\\explorer.exe");
  EXPECT_EQ(e.parent_command_line, "explorer.exe /factory");
}

}  // namespace
}  // namespace procsentry::driver_test
