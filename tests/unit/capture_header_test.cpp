// A capture's header record: round trip, every bad field refused, and what it changes in the
// decoder (times) and the process table (uids, another boot's processes forgotten).
#include "core/capture_header.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/decode.h"
#include "core/process_table.h"
#include "support/record_builder.h"

namespace procsentry {
namespace {

using test::Bytes;

constexpr char kBootId[] = "3f1c2b7a-9d44-4e1b-8c55-0a1b2c3d4e5f";

CaptureHeader sample() {
  CaptureHeader h;
  h.clock.boot_to_epoch_ns = 1'700'000'000'123'456'789;
  h.boot_id = kBootId;
  h.uid_tick_ns = 10'000'000;
  h.began_ns = 1'700'000'100'000'000'000;
  return h;
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(CaptureHeader, RoundTrip) {
  Bytes record = bytes_of(encode_capture_header(sample()));
  ASSERT_EQ(record.size(), sizeof(ps_capture));
  EXPECT_TRUE(is_capture_record(record));
  auto h = decode_capture_header(record);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->clock.boot_to_epoch_ns, sample().clock.boot_to_epoch_ns);
  EXPECT_EQ(h->boot_id, kBootId);
  EXPECT_EQ(h->uid_tick_ns, 10'000'000u);
  EXPECT_EQ(h->began_ns, sample().began_ns);
}

TEST(CaptureHeader, ALaterVersionsLongerRecordIsReadUpToWhatThisOneKnows) {
  Bytes record = bytes_of(encode_capture_header(sample()));
  record.resize(record.size() + 16, 0xab);
  ps_capture c{};
  std::memcpy(&c, record.data(), sizeof(c));
  c.hdr.size = static_cast<std::uint32_t>(record.size());
  c.capture_version = 2;
  std::memcpy(record.data(), &c, sizeof(c));
  auto h = decode_capture_header(record);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->boot_id, kBootId);
}

TEST(CaptureHeader, BadFieldsAreErrors) {
  const Bytes good = bytes_of(encode_capture_header(sample()));
  auto with = [&](auto change) {
    Bytes record = good;
    ps_capture c{};
    std::memcpy(&c, record.data(), sizeof(c));
    change(c);
    std::memcpy(record.data(), &c, sizeof(c));
    return decode_capture_header(record);
  };
  EXPECT_FALSE(with([](ps_capture& c) { c.capture_version = 0; }));
  EXPECT_FALSE(with([](ps_capture& c) { c.uid_tick_ns = 0; }));
  EXPECT_FALSE(with([](ps_capture& c) { c.hdr.clock = PS_CLOCK_BOOTTIME; }));
  EXPECT_FALSE(with([](ps_capture& c) { c.hdr.version = PS_WIRE_VERSION + 1; }));
  EXPECT_FALSE(with([](ps_capture& c) { c.hdr.size = 200; }));
  EXPECT_FALSE(with([](ps_capture& c) { c.reserved0 = 1; }));
  EXPECT_FALSE(with([](ps_capture& c) { std::memset(c.boot_id, 'a', sizeof(c.boot_id)); }))
      << "an unterminated boot id";
  EXPECT_FALSE(with([](ps_capture& c) { c.boot_id[0] = '\n'; })) << "a boot id is hex and dashes";
  Bytes short_record(good.begin(), good.begin() + 40);
  EXPECT_FALSE(decode_capture_header(short_record));
  EXPECT_FALSE(is_capture_record(Bytes(good.begin(), good.begin() + 10)));
}

TEST(CaptureHeader, TheDecoderPrintsTheRecordingBootsTimes) {
  Decoder decoder(ClockMapping{5});  // this machine's mapping: not the capture's
  decoder.use_clock(sample().clock);
  Bytes fork = test::fork_record(test::TaskSpec{}, 1, 1);
  auto event = decoder.decode(fork);
  ASSERT_TRUE(event) << event.error().message;
  ps_header hdr{};
  std::memcpy(&hdr, fork.data(), sizeof(hdr));
  EXPECT_EQ((*event)->time_ns, sample().clock.boot_to_epoch_ns + static_cast<std::int64_t>(hdr.timestamp_ns));
}

TEST(CaptureHeader, AnotherBootsProcessesAreForgotten) {
  ProcessTable table(ProcessUidScheme("", 10'000'000), ProcessTableOptions{});
  Decoder decoder(ClockMapping{});
  Bytes fork = test::fork_record(test::TaskSpec{}, 1, 1);
  Event& e = **decoder.decode(fork);
  ASSERT_TRUE(table.enrich(e));
  table.apply(e);
  ASSERT_EQ(table.size(), 1u);
  table.use_uid_scheme(ProcessUidScheme("", 10'000'000));
  EXPECT_EQ(table.size(), 1u) << "the same boot: the table stays";
  table.use_uid_scheme(ProcessUidScheme(kBootId, 10'000'000));
  EXPECT_EQ(table.size(), 0u);
  Event& again = **decoder.decode(fork);
  ASSERT_TRUE(table.enrich(again));
  EXPECT_EQ(again.process_uid.view().substr(0, 9), "3f1c2b7a-");
}

}  // namespace
}  // namespace procsentry
