// A test loads the driver in SetUp and checks in TearDown that unload left nothing behind:
// no pool, device, link, registration, process reference or Driver Verifier-style violation.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "driver_harness.h"

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
  void SetUp() override {
    kemu::reset();
    ASSERT_EQ(DriverEntry(&driver_, nullptr), STATUS_SUCCESS);
    loaded_ = true;
  }
  void TearDown() override {
    unload();
    EXPECT_EQ(kemu::pool_stats(kDriverTag).live_allocations, 0u) << "unload left pool allocations";
    EXPECT_EQ(kemu::live_devices(), 0u);
    EXPECT_EQ(kemu::live_links(), 0u);
    EXPECT_FALSE(kemu::notify_registered());
    EXPECT_EQ(kemu::process_references(), 0u) << "a PsLookupProcessByProcessId without its ObDereferenceObject";
    EXPECT_EQ(kemu::violations().total(), 0u);
  }
  void unload() {
    if (loaded_) driver_.DriverUnload(&driver_);
    loaded_ = false;
  }

  DRIVER_OBJECT driver_{};
  bool loaded_ = false;
};

}  // namespace procsentry::driver_test
