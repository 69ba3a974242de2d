// The pended reads' queue on both of its paths: the kernel's IoCsq routines (Windows), and the
// driver's own cancel routine where the kernel has no IoCsqInsertIrpEx (Wine 8, whose
// IoCsqInsertIrp is a stub that aborts). Cancellation before, while and after a read is queued,
// racing deliveries: each read completes exactly once, no record is lost or repeated.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "driver_fixture.h"

namespace procsentry::driver_test {
namespace {

const char* name_of(kemu::CsqExports exports) { return exports == kemu::CsqExports::windows ? "windows" : "wine8"; }

class DriverReadQueue : public DriverFixture {
 protected:
  // Reloads the driver on a kernel with `exports`, the client open and agreed.
  void reload(kemu::CsqExports exports) {
    close_client();
    unload();
    kemu::set_csq_exports(exports);
    csq_exports_ = exports;
    csq_insertions_at_load_ = kemu::csq_insertions();
    ASSERT_EQ(DriverEntry(&driver_, nullptr), STATUS_SUCCESS);
    loaded_ = true;
    ASSERT_EQ(kemu::open(&driver_, &client_file_), STATUS_SUCCESS);
    client_open_ = true;
    ASSERT_EQ(say_version(&driver_, PS_WIRE_VERSION), STATUS_SUCCESS);
  }
  // Records in one completed read, a lost record counting what it stands for.
  static std::size_t records_in(const kemu::Request* r) {
    std::size_t n = 0;
    for (std::size_t at = 0; at + sizeof(ps_header) <= r->irp.IoStatus.Information;) {
      ps_header hdr;
      std::memcpy(&hdr, r->buffer.data() + at, sizeof(hdr));
      if (hdr.size == 0) break;
      if (hdr.type == PS_REC_LOST) {
        ps_lost lost;
        std::memcpy(&lost, r->buffer.data() + at, sizeof(lost));
        n += lost.count;
      } else {
        n++;
      }
      at += hdr.size;
    }
    return n;
  }
};

TEST_F(DriverReadQueue, APendedReadIsCancelledOnEitherPath) {
  for (auto exports : {kemu::CsqExports::windows, kemu::CsqExports::wine8}) {
    reload(exports);
    const std::size_t before = kemu::csq_insertions();
    kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
    ASSERT_EQ(send_bounded(&driver_, r), STATUS_PENDING) << name_of(exports);
    EXPECT_TRUE(r->irp.PendingReturned);
    EXPECT_EQ(kemu::csq_insertions() - before, exports == kemu::CsqExports::windows ? 1u : 0u)
        << name_of(exports) << ": IoCsqInsertIrpEx where the kernel has it, never on Wine 8";
    EXPECT_NE(r->irp.CancelRoutine, nullptr) << name_of(exports) << ": a queued read is cancellable";
    kemu::cancel(r);
    ASSERT_TRUE(kemu::wait(r, 10'000)) << name_of(exports) << ": the cancelled read never completed";
    EXPECT_EQ(r->irp.IoStatus.Status, STATUS_CANCELLED);
    EXPECT_EQ(kemu::completions(r), 1);
    kemu::free_request(r);
    // The queue still works after it: a record completes the next read.
    kemu::Request* next = kemu::new_read(PS_WINDOWS_READ_MIN);
    ASSERT_EQ(send_bounded(&driver_, next), STATUS_PENDING);
    FakeProcess p(600, 4, u"a.exe", u"a", 0);
    ASSERT_TRUE(p.create());
    ASSERT_TRUE(kemu::wait(next, 10'000)) << name_of(exports) << ": the record did not complete the pended read";
    EXPECT_EQ(next->irp.IoStatus.Status, STATUS_SUCCESS);
    EXPECT_EQ(records_in(next), 1u);
    EXPECT_EQ(next->irp.CancelRoutine, nullptr) << "completed with its cancel routine set";
    kemu::free_request(next);
  }
}

// IoCancelIrp before the read is queued finds no cancel routine: the queue sees Cancel and
// completes the read itself, once.
TEST_F(DriverReadQueue, AReadCancelledBeforeItIsQueuedCompletesAsCancelled) {
  for (auto exports : {kemu::CsqExports::windows, kemu::CsqExports::wine8}) {
    reload(exports);
    kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
    bool cancelled_early = false;
    kemu::on_next(kemu::Point::read_pend, [&] {
      kemu::cancel(r);
      cancelled_early = true;
    });
    EXPECT_EQ(send_bounded(&driver_, r), STATUS_PENDING) << name_of(exports);
    EXPECT_TRUE(cancelled_early) << name_of(exports) << ": the read never reached its pending";
    EXPECT_EQ(kemu::completions(r), 1) << name_of(exports);
    EXPECT_EQ(r->irp.IoStatus.Status, STATUS_CANCELLED);
    kemu::free_request(r);
  }
}

// Reads pended and cancelled at once while callbacks deliver into them: each read completes
// exactly once (cancelled, or with records), and every record arrives exactly once (or is
// counted in a lost record, should the readers fall behind the queue's bound).
TEST_F(DriverReadQueue, CancellationsRacingDeliveriesLoseAndRepeatNothing) {
  for (auto exports : {kemu::CsqExports::windows, kemu::CsqExports::wine8}) {
    reload(exports);
    constexpr ULONG kProcesses = 20'000;
    std::atomic<bool> done{false};
    std::atomic<std::size_t> received{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t) {
      readers.emplace_back([&] {
        std::vector<kemu::Request*> mine;
        while (!done) {
          kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
          if (kemu::send(&driver_, r) == STATUS_PENDING) kemu::cancel(r);
          mine.push_back(r);
        }
        for (kemu::Request* r : mine) {
          EXPECT_TRUE(kemu::wait(r, 10'000)) << "a read neither delivered nor cancelled";
          EXPECT_EQ(kemu::completions(r), 1);
          if (r->irp.IoStatus.Status == STATUS_SUCCESS) received += records_in(r);
          kemu::free_request(r);
        }
      });
    }
    std::thread creator([&] {
      for (ULONG i = 0; i < kProcesses; ++i) {
        FakeProcess p(1000 + 4 * (i % 4096), 4, u"a.exe", u"a", 0);
        p.create();
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
    creator.join();
    // What the readers left queued (a read cancelled before its delivery took nothing).
    for (;;) {
      kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
      if (send_bounded(&driver_, r) == STATUS_PENDING) {
        kemu::cancel(r);
        kemu::wait(r, 10'000);
      }
      const bool got = r->irp.IoStatus.Status == STATUS_SUCCESS;
      if (got) received += records_in(r);
      kemu::free_request(r);
      if (!got) break;
    }
    done = true;
    for (auto& t : readers) t.join();
    EXPECT_EQ(received.load(), kProcesses) << name_of(exports);
    EXPECT_EQ(kemu::violations().total(), 0u) << name_of(exports);
  }
}

}  // namespace
}  // namespace procsentry::driver_test
