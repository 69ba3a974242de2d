// A test loads the driver in SetUp and checks in TearDown that unload left nothing behind:
// no pool, device, link, registration, process reference or Driver Verifier-style violation.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "driver_harness.h"
#include "procsentry/wire/windows_device.h"

namespace procsentry::driver_test {

// Every wait in these tests is bounded; a failure names what did not arrive.
template <typename Done>
::testing::AssertionResult arrives(Done done, const std::string& what,
                                   std::chrono::seconds limit = std::chrono::seconds(240)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) {
      return ::testing::AssertionFailure() << what << " did not arrive within " << limit.count() << " s";
    }
    std::this_thread::yield();
  }
  return ::testing::AssertionSuccess();
}

class DriverFixture : public ::testing::Test {
 protected:
  // The client has the device open (\\.\procsentry) and said its wire version from SetUp to
  // TearDown, unless the test closes it.
  void SetUp() override {
    kemu::reset();
    csq_exports_ = kemu::csq_exports_from_environment();  // ctest runs every test on both paths
    kemu::set_csq_exports(csq_exports_);
    ASSERT_EQ(DriverEntry(&driver_, nullptr), STATUS_SUCCESS);
    loaded_ = true;
    ASSERT_EQ(kemu::open(&driver_, &client_file_), STATUS_SUCCESS);
    client_open_ = true;
    ASSERT_EQ(say_version(&driver_, PS_WIRE_VERSION), STATUS_SUCCESS);
  }
  void TearDown() override {
    close_client();
    unload();
    EXPECT_EQ(kemu::pool_stats(kDriverTag).live_allocations, 0u) << "unload left pool allocations";
    EXPECT_EQ(kemu::live_devices(), 0u);
    EXPECT_EQ(kemu::live_links(), 0u);
    EXPECT_FALSE(kemu::notify_registered());
    EXPECT_EQ(kemu::process_references(), 0u) << "a PsLookupProcessByProcessId without its ObDereferenceObject";
    EXPECT_EQ(kemu::token_references(), 0u) << "a PsReferencePrimaryToken without its PsDereferencePrimaryToken";
    EXPECT_EQ(kemu::open_handles(), 0u) << "an ObOpenObjectByPointer without its ZwClose";
    EXPECT_EQ(kemu::violations().total(), 0u);
    if (csq_exports_ == kemu::CsqExports::wine8) {
      EXPECT_EQ(kemu::csq_insertions(), csq_insertions_at_load_) << "IoCsq used on Wine 8";
    }
  }
  // The client closes its handle: cleanup, then close (no read of its is in flight).
  void close_client() {
    if (!loaded_ || !client_open_) return;
    EXPECT_EQ(kemu::cleanup(&driver_, &client_file_), STATUS_SUCCESS);
    EXPECT_EQ(kemu::close(&driver_, &client_file_), STATUS_SUCCESS);
    client_open_ = false;
  }
  // Windows unloads only a driver whose device no one has open; the emulation allows it, to
  // show unload alone leaves nothing either.
  void unload() {
    if (loaded_) driver_.DriverUnload(&driver_);
    loaded_ = false;
  }

  kemu::CsqExports csq_exports_ = kemu::CsqExports::windows;
  std::size_t csq_insertions_at_load_ = 0;
  DRIVER_OBJECT driver_{};
  bool loaded_ = false;
  kemu::File client_file_;
  bool client_open_ = false;
};

}  // namespace procsentry::driver_test
