// No record can wedge the channel, and what the client reads says where and when: maximal
// strings, reads racing cleanup, opens of a path under the device, lost records in their place
// in time, the producing CPU, the clock, the device's DACL.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "client_path.h"
#include "driver_fixture.h"

namespace procsentry::driver_test {
namespace {

// One record as read, in the order the driver returned it.
struct Raw {
  UCHAR type = 0;
  ULONG pid = 0;
  ULONG cpu = 0;
  ULONG64 timestamp_ns = 0;
  ULONG64 lost_count = 0;
  ULONG lost_cause = 0;
};

// One read of the client's size; its records, or nullopt if it would have pended (cancelled).
std::optional<std::vector<Raw>> read_once(PDRIVER_OBJECT driver) {
  kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
  NTSTATUS status = send_bounded(driver, r);
  if (status == STATUS_PENDING) {
    kemu::cancel(r);
    kemu::wait(r, 10'000);
  }
  std::optional<std::vector<Raw>> out;
  if (kemu::completions(r) == 1 && r->irp.IoStatus.Status == STATUS_SUCCESS) {
    out.emplace();
    for (std::size_t at = 0; at + sizeof(ps_header) <= r->irp.IoStatus.Information;) {
      ps_header hdr;
      std::memcpy(&hdr, r->buffer.data() + at, sizeof(hdr));
      Raw raw{hdr.type, 0, hdr.cpu, hdr.timestamp_ns, 0, 0};
      if (hdr.type == PS_REC_LOST) {
        ps_lost lost;
        std::memcpy(&lost, r->buffer.data() + at, sizeof(lost));
        raw.lost_count = lost.count;
        raw.lost_cause = lost.cause;
      } else {
        ps_task task;
        std::memcpy(&task, r->buffer.data() + at + sizeof(ps_header), sizeof(task));
        raw.pid = task.pid;
      }
      out->push_back(raw);
      if (hdr.size == 0) break;
      at += hdr.size;
    }
  }
  kemu::free_request(r);
  return out;
}

std::vector<Raw> read_all(PDRIVER_OBJECT driver) {
  std::vector<Raw> all;
  while (auto batch = read_once(driver)) all.insert(all.end(), batch->begin(), batch->end());
  return all;
}

// "c<pid>" for a create, "x<pid>" an exit, "L<cause>x<count>" a lost record.
std::string sequence(const std::vector<Raw>& records) {
  std::string s;
  for (const Raw& r : records) {
    if (!s.empty()) s += ' ';
    if (r.type == PS_REC_LOST) {
      s += "L" + std::to_string(r.lost_cause) + "x" + std::to_string(r.lost_count);
    } else {
      s += (r.type == PS_REC_CREATE ? "c" : "x") + std::to_string(r.pid);
    }
  }
  return s;
}

class DriverChannel : public DriverFixture {
 protected:
  // A process whose image and command line are `units` UTF-16 units of `fill`, handed to the
  // callback with Length `length` bytes (a UNICODE_STRING may be odd, up to 65535).
  // 15 sub-authorities: PS_SID_MAX bytes.
  static constexpr const char* kLongestSid = "S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-4294967295";
  std::unique_ptr<FakeProcess> long_strings(ULONG pid, std::u16string fill, USHORT length) {
    std::u16string text;
    while (text.size() * 2 < 65536) text += fill;
    auto p = std::make_unique<FakeProcess>(pid, 4, text, text, 0);
    p->image_us.Length = length;
    p->command_us.Length = length;
    p->eprocess.token.user = kemu::sid_from_string(kLongestSid);  // the record's largest
    return p;
  }
};

TEST_F(DriverChannel, MaximalStringsComeBackInOneReadCutAndFlagged) {
  auto p = long_strings(100, u"ab", 65535);
  ASSERT_TRUE(p->create());
  kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
  const NTSTATUS status = send_bounded(&driver_, r);
  EXPECT_EQ(status, STATUS_SUCCESS) << "a record no read can take wedges the channel";
  if (status == STATUS_PENDING) {
    kemu::cancel(r);
    kemu::wait(r, 10'000);
  }
  kemu::free_request(r);
  EXPECT_TRUE(read_all(&driver_).empty());
}

TEST_F(DriverChannel, MaximalStringsDecodeAsTruncatedWithTheirOriginalLength) {
  auto odd = long_strings(200, u"ab", 65535);            // cut to 65534: the last whole unit
  auto even = long_strings(204, u"cd", 65534);           // exactly the limit: whole
  auto pairs = long_strings(208, u"\U0001F600", 65535);  // 65534 would split a pair: 65532
  ASSERT_TRUE(odd->create());
  ASSERT_TRUE(even->create());
  ASSERT_TRUE(pairs->create());
  ClientPath client;
  ASSERT_TRUE(client.read_all(&driver_));
  EXPECT_EQ(client.decode_errors(), 0u);
  auto a = client.of(200);
  auto b = client.of(204);
  auto c = client.of(208);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(a[0].image_truncated);
  EXPECT_EQ(a[0].image_original_length, 65535u);
  EXPECT_EQ(a[0].image.size(), 32767u);  // ASCII: one byte per UTF-16 unit kept
  EXPECT_TRUE(a[0].command_line_truncated);
  EXPECT_EQ(a[0].command_line_original_length, 65535u);
  EXPECT_FALSE(b[0].image_truncated);
  EXPECT_EQ(b[0].image.size(), 32767u);
  EXPECT_FALSE(b[0].command_line_truncated);
  EXPECT_TRUE(c[0].image_truncated);
  EXPECT_EQ(c[0].image_original_length, 65535u);
  std::string emoji = "\xF0\x9F\x98\x80";
  std::string expected;
  for (int i = 0; i < 65532 / 4; ++i) expected += emoji;
  EXPECT_EQ(c[0].image, expected) << "whole characters only, no replacement character";
}

// A read in flight when the client closes its handle: it reaches its pending (on either queue
// path), cleanup runs to the end, and only then is the read queued: the closed queue completes
// it as cancelled (without that it would stay pending after cleanup).
TEST_F(DriverChannel, AReadRacingCleanupIsCancelledNotLeftPending) {
  std::atomic<bool> cleanup_returned{false};
  std::thread cleaner;
  kemu::on_next(kemu::Point::read_pend, [&] {
    cleaner = std::thread([&] {
      EXPECT_EQ(kemu::cleanup(&driver_, &client_file_), STATUS_SUCCESS);
      cleanup_returned = true;
    });
    EXPECT_TRUE(arrives([&] { return cleanup_returned.load(); }, "cleanup returning", std::chrono::seconds(30)));
  });
  kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
  EXPECT_EQ(kemu::send(&driver_, r), STATUS_PENDING);
  ASSERT_TRUE(cleaner.joinable()) << "the read never reached its pending";
  cleaner.join();
  EXPECT_EQ(kemu::completions(r), 1) << "a read pends after cleanup returned";
  EXPECT_EQ(r->irp.IoStatus.Status, STATUS_CANCELLED);
  if (kemu::completions(r) == 0) {
    kemu::cancel(r);
    kemu::wait(r, 10'000);
  }
  kemu::free_request(r);

  // A read that arrives after cleanup is refused at once; a new open reads again.
  kemu::Request* late = kemu::new_read(PS_WINDOWS_READ_MIN);
  EXPECT_EQ(kemu::send(&driver_, late), STATUS_DELETE_PENDING);
  kemu::free_request(late);
  EXPECT_EQ(kemu::close(&driver_, &client_file_), STATUS_SUCCESS);
  kemu::File again;
  ASSERT_EQ(kemu::open(&driver_, &again), STATUS_SUCCESS);
  ASSERT_EQ(say_version(&driver_, PS_WIRE_VERSION), STATUS_SUCCESS);
  FakeProcess p(300, 4, u"a.exe", u"a", 0);
  ASSERT_TRUE(p.create());
  EXPECT_EQ(sequence(read_all(&driver_)), "c300");
  EXPECT_EQ(kemu::cleanup(&driver_, &again), STATUS_SUCCESS);
  EXPECT_EQ(kemu::close(&driver_, &again), STATUS_SUCCESS);
  client_open_ = false;
}

// The same race left to the scheduler, with callbacks delivering (and re-pending) reads too:
// once cleanup returns, every read is completed, each exactly once.
TEST_F(DriverChannel, ReadsAndCallbacksRacingCleanupLeaveNoReadPending) {
  close_client();
  for (int round = 0; round < 200; ++round) {
    kemu::File file;
    ASSERT_EQ(kemu::open(&driver_, &file), STATUS_SUCCESS);
    ASSERT_EQ(say_version(&driver_, PS_WIRE_VERSION), STATUS_SUCCESS);
    std::atomic<bool> stop{false};
    std::vector<std::vector<kemu::Request*>> sent(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        while (!stop) {
          kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
          sent[static_cast<std::size_t>(t)].push_back(r);
          if (kemu::send(&driver_, r) == STATUS_DELETE_PENDING) break;  // after cleanup
        }
      });
    }
    threads.emplace_back([&, round] {
      for (ULONG i = 0; !stop; ++i) {
        FakeProcess p(static_cast<ULONG>(1000 + 4 * (i % 512)), 4, u"a.exe", u"a", 0);
        p.create();
        p.exit();
        if (i == static_cast<ULONG>(round % 7)) std::this_thread::yield();
      }
    });
    std::this_thread::yield();
    ASSERT_EQ(kemu::cleanup(&driver_, &file), STATUS_SUCCESS);
    stop = true;
    for (auto& t : threads) t.join();
    for (auto& requests : sent) {
      for (kemu::Request* r : requests) {
        ASSERT_EQ(kemu::completions(r), 1) << "round " << round << ": a read pends after cleanup";
        kemu::free_request(r);
      }
    }
    ASSERT_EQ(kemu::close(&driver_, &file), STATUS_SUCCESS);
  }
}

TEST_F(DriverChannel, OpensOfAPathUnderTheDeviceAreRefused) {
  kemu::File second;
  EXPECT_EQ(kemu::open(&driver_, &second), STATUS_ACCESS_DENIED) << "one client at a time";
  close_client();
  kemu::File under(u"\\anything");
  EXPECT_EQ(kemu::open(&driver_, &under), STATUS_OBJECT_PATH_NOT_FOUND);
  kemu::File device;
  ASSERT_EQ(kemu::open(&driver_, &device), STATUS_SUCCESS);
  kemu::File relative(u"", &device);                                 // relative to an open of the device
  EXPECT_EQ(kemu::open(&driver_, &relative), STATUS_ACCESS_DENIED);  // exclusive: the IO manager refuses
  EXPECT_EQ(kemu::cleanup(&driver_, &device), STATUS_SUCCESS);
  EXPECT_EQ(kemu::close(&driver_, &device), STATUS_SUCCESS);
  kemu::File relative_alone(u"x", &device);
  EXPECT_EQ(kemu::open(&driver_, &relative_alone), STATUS_OBJECT_PATH_NOT_FOUND);
  // The refused opens did not open the read path.
  kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
  EXPECT_EQ(kemu::send(&driver_, r), STATUS_DELETE_PENDING);
  kemu::free_request(r);
}

TEST_F(DriverChannel, LostRecordsKeepTheirPlaceInTime) {
  kemu::set_pool_failure_every(3);  // the 3rd, 6th and 9th creations lose their record
  std::vector<std::unique_ptr<FakeProcess>> processes;
  for (ULONG i = 0; i < 9; ++i) {
    processes.push_back(std::make_unique<FakeProcess>(400 + 4 * i, 4, u"a.exe", u"a", 0));
    ASSERT_TRUE(processes.back()->create());
  }
  kemu::set_pool_failure_every(0);
  auto records = read_all(&driver_);
  EXPECT_EQ(sequence(records), "c400 c404 L3x1 c412 c416 L3x1 c424 c428 L3x1");
  for (std::size_t i = 1; i < records.size(); ++i) {
    EXPECT_LE(records[i - 1].timestamp_ns, records[i].timestamp_ns) << "record " << i << " goes back in time";
  }
}

TEST_F(DriverChannel, AFullQueuesLossFollowsTheRecordsQueuedBeforeIt) {
  std::vector<std::unique_ptr<FakeProcess>> processes;
  for (ULONG i = 0; i < 4096 + 5; ++i) {
    processes.push_back(std::make_unique<FakeProcess>(1000 + 4 * i, 4, u"a.exe", u"a", 0));
    processes.back()->create();
  }
  auto records = read_all(&driver_);
  ASSERT_EQ(records.size(), 4097u);
  EXPECT_EQ(records.front().type, PS_REC_CREATE);
  EXPECT_EQ(records.back().type, PS_REC_LOST);
  EXPECT_EQ(records.back().lost_cause, static_cast<ULONG>(PS_LOST_QUEUE_FULL));
  EXPECT_EQ(records.back().lost_count, 5u);
}

// A record that fills a read exactly: the loss after it leads the next read, still in place.
TEST_F(DriverChannel, ALossThatDoesNotFitAfterAFullReadLeadsTheNext) {
  auto full = long_strings(500, u"ab", 65534);  // sizeof(ps_create) + 2 * 65534 + 68 = the read size
  ASSERT_TRUE(full->create());
  kemu::set_pool_failure_every(1);
  FakeProcess lost(504, 4, u"b.exe", u"b", 0);
  ASSERT_TRUE(lost.create());
  kemu::set_pool_failure_every(0);
  FakeProcess after(508, 4, u"c.exe", u"c", 0);
  ASSERT_TRUE(after.create());
  auto first = read_once(&driver_);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(sequence(*first), "c500");
  auto second = read_once(&driver_);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(sequence(*second), "L3x1 c508");
}

TEST_F(DriverChannel, EachRecordNamesTheProcessorThatProducedIt) {
  kemu::set_current_processor(5);
  FakeProcess p(600, 4, u"a.exe", u"a", 0);
  ASSERT_TRUE(p.create());
  std::thread([&] {
    kemu::set_current_processor(3);
    p.exit();
    kemu::set_current_processor(6);
    kemu::set_pool_failure_every(1);
    FakeProcess q(604, 4, u"b.exe", u"b", 0);
    q.create();
    kemu::set_pool_failure_every(0);
  }).join();
  auto records = read_all(&driver_);
  ASSERT_EQ(sequence(records), "c600 x600 L3x1");
  EXPECT_EQ(records[0].cpu, 5u);
  EXPECT_EQ(records[1].cpu, 3u);
  EXPECT_EQ(records[2].cpu, 6u) << "a loss is counted where it happened";
}

ULONG64 epoch_ns_now() {
  return static_cast<ULONG64>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

TEST_F(DriverChannel, PreciseClockWhereTheKernelHasIt) {
  const auto before_queries = kemu::time_queries();
  const ULONG64 before = epoch_ns_now();
  FakeProcess p(700, 4, u"a.exe", u"a", 0);
  ASSERT_TRUE(p.create());
  const ULONG64 after = epoch_ns_now();
  auto records = read_all(&driver_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_GE(records[0].timestamp_ns, before / 100 * 100);
  EXPECT_LE(records[0].timestamp_ns, after);
  EXPECT_GT(kemu::time_queries().precise, before_queries.precise);
  EXPECT_EQ(kemu::time_queries().coarse, before_queries.coarse) << "KeQuerySystemTime used although Precise exists";
}

TEST_F(DriverChannel, TickClockWhereTheKernelHasNoPreciseClock) {
  close_client();
  unload();
  kemu::set_precise_time_available(false);  // Windows 7: MmGetSystemRoutineAddress finds nothing
  ASSERT_EQ(DriverEntry(&driver_, nullptr), STATUS_SUCCESS);
  loaded_ = true;
  ASSERT_EQ(kemu::open(&driver_, &client_file_), STATUS_SUCCESS);
  client_open_ = true;
  ASSERT_EQ(say_version(&driver_, PS_WIRE_VERSION), STATUS_SUCCESS);
  const auto before_queries = kemu::time_queries();
  std::vector<std::unique_ptr<FakeProcess>> processes;
  for (ULONG i = 0; i < 20; ++i) {
    processes.push_back(std::make_unique<FakeProcess>(800 + 4 * i, 4, u"a.exe", u"a", 0));
    ASSERT_TRUE(processes.back()->create());
  }
  auto records = read_all(&driver_);
  ASSERT_EQ(records.size(), 20u);
  for (const Raw& r : records) EXPECT_EQ(r.timestamp_ns % (kemu::kClockTick * 100), 0u) << "not on a clock tick";
  EXPECT_EQ(kemu::time_queries().precise, before_queries.precise);
  EXPECT_GT(kemu::time_queries().coarse, before_queries.coarse);
}

}  // namespace
}  // namespace procsentry::driver_test
