// The callback's registration: PsSetCreateProcessNotifyRoutineEx2 for subsystems where the
// kernel exports it (WSL's pico processes are reported, flagged), Ex elsewhere (they are not);
// the unload removes it through the routine that added it (the fixture's TearDown checks
// nothing stays registered).
#include <gtest/gtest.h>

#include "client_path.h"
#include "driver_fixture.h"

namespace procsentry::driver_test {
namespace {

class DriverNotify : public DriverFixture {
 protected:
  // Reloads the driver on a kernel without Ex2 (Windows before 10 1703).
  void reload_without_ex2() {
    close_client();
    unload();
    kemu::set_notify_ex2_available(false);
    ASSERT_EQ(DriverEntry(&driver_, nullptr), STATUS_SUCCESS);
    loaded_ = true;
    ASSERT_EQ(kemu::open(&driver_, &client_file_), STATUS_SUCCESS);
    client_open_ = true;
    ASSERT_EQ(say_version(&driver_, PS_WIRE_VERSION), STATUS_SUCCESS);
  }
  // A WSL process: Windows gives no image file name or command line for most of them.
  static void pico(FakeProcess& p) { p.info.IsSubsystemProcess = 1; }
  ClientPath client;
};

TEST_F(DriverNotify, WhereTheKernelHasEx2PicoProcessesAreReportedAndFlagged) {
  EXPECT_EQ(kemu::notify_registered_with(), "Ex2");
  FakeProcess win32(1000, 4, u"\\??\\C:\\Windows\\System32\\wsl.exe", u"wsl.exe", 0);
  FakeProcess linux_process(1004, 1000, std::nullopt, std::nullopt, 0);
  pico(linux_process);
  ASSERT_TRUE(win32.create());
  ASSERT_TRUE(linux_process.create());
  ASSERT_TRUE(linux_process.exit());
  ASSERT_TRUE(client.read_all(&driver_));
  auto w = client.of(1000);
  auto l = client.of(1004);
  ASSERT_EQ(w.size(), 1u);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_FALSE(w[0].subsystem_process);
  EXPECT_TRUE(l[0].subsystem_process);
  EXPECT_EQ(l[0].parent_uid, w[0].process_uid);
  EXPECT_EQ(l[1].kind, EventKind::exit);
  EXPECT_EQ(l[1].process_uid, l[0].process_uid);
  EXPECT_EQ(client.decode_errors(), 0u);
}

TEST_F(DriverNotify, WithoutEx2TheDriverRegistersWithExAndPicoProcessesAreNotSeen) {
  reload_without_ex2();
  EXPECT_EQ(kemu::notify_registered_with(), "Ex");
  FakeProcess win32(2000, 4, u"\\??\\C:\\a.exe", u"a.exe", 0);
  FakeProcess linux_process(2004, 2000, std::nullopt, std::nullopt, 0);
  pico(linux_process);
  ASSERT_TRUE(win32.create());
  EXPECT_FALSE(linux_process.create()) << "Ex's routines are not called for subsystem processes";
  ASSERT_TRUE(client.read_all(&driver_));
  EXPECT_EQ(client.of(2000).size(), 1u);
  EXPECT_TRUE(client.of(2004).empty());
}

// What the unload's choice guards against: a routine added through Ex2 is not removed through
// Ex (on Windows it would be called after the driver is gone).
TEST(DriverNotifyRegistration, ARoutineIsRemovedOnlyThroughTheRoutineThatAddedIt) {
  kemu::reset();
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"PsSetCreateProcessNotifyRoutineEx2");
  using SetEx2 = NTSTATUS (*)(PSCREATEPROCESSNOTIFYTYPE, PVOID, BOOLEAN);
  auto ex2 = reinterpret_cast<SetEx2>(MmGetSystemRoutineAddress(&name));
  ASSERT_NE(ex2, nullptr);
  PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine = [](PEPROCESS, HANDLE, PPS_CREATE_NOTIFY_INFO) {};
  ASSERT_EQ(ex2(PsCreateProcessNotifySubsystems, reinterpret_cast<PVOID>(routine), FALSE), STATUS_SUCCESS);
  EXPECT_EQ(PsSetCreateProcessNotifyRoutineEx(routine, TRUE), STATUS_PROCEDURE_NOT_FOUND);
  EXPECT_EQ(kemu::notify_registered_with(), "Ex2");
  EXPECT_EQ(ex2(PsCreateProcessNotifySubsystems, reinterpret_cast<PVOID>(routine), TRUE), STATUS_SUCCESS);
  EXPECT_FALSE(kemu::notify_registered());
  kemu::set_notify_ex2_available(false);
  EXPECT_EQ(MmGetSystemRoutineAddress(&name), nullptr);
  kemu::reset();
}

}  // namespace
}  // namespace procsentry::driver_test
