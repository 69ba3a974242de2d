// The version handshake end to end: the driver's PS_IOCTL_VERSION answer, handed to the
// client's own decision (src/windows/client/driver_version.cpp) as DeviceSource::open does;
// and the driver's own refusal: no records on an open whose client did not say its version.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

#include "driver_fixture.h"
#include "driver_version.h"

namespace procsentry::driver_test {
namespace {

struct Sent {
  NTSTATUS status;
  DriverVersionAnswer answer;
};

// One handshake as the client sends it, through the driver's dispatch; the answer as
// DeviceIoControl would return it (no output copied back for an error status).
Sent handshake(PDRIVER_OBJECT driver, std::uint32_t client_version, ULONG code = PS_IOCTL_VERSION,
               ULONG input_length = sizeof(ps_device_version), ULONG output_length = sizeof(ps_device_version)) {
  kemu::Request* r = kemu::new_read(output_length, input_length, code);
  ps_device_version sent{client_version, 0};
  if (input_length >= sizeof(sent)) std::memcpy(r->buffer.data(), &sent, sizeof(sent));
  Sent out{send_bounded(driver, r), {}};
  EXPECT_EQ(kemu::completions(r), 1) << "a handshake never pends";
  out.answer.answered = out.status == STATUS_SUCCESS;
  if (out.answer.answered) {
    out.answer.bytes = r->irp.IoStatus.Information;
    std::memcpy(&out.answer.version, r->buffer.data(),
                std::min<std::size_t>(out.answer.bytes, sizeof(ps_device_version)));
  }
  kemu::free_request(r);
  return out;
}

using DriverVersion = DriverFixture;

TEST_F(DriverVersion, TheDriverAnswersItsWireVersionAndTheClientAgrees) {
  Sent s = handshake(&driver_, PS_WIRE_VERSION);
  ASSERT_EQ(s.status, STATUS_SUCCESS);
  EXPECT_EQ(s.answer.bytes, sizeof(ps_device_version));
  EXPECT_EQ(s.answer.version.wire_version, static_cast<std::uint32_t>(PS_WIRE_VERSION));
  EXPECT_EQ(s.answer.version.reserved, 0u);
  auto agreed = check_driver_version(s.answer);
  EXPECT_TRUE(agreed) << agreed.error().message;
}

TEST_F(DriverVersion, AClientOfAnotherVersionRefusesTheDriverInOneLine) {
  const std::uint32_t other = PS_WIRE_VERSION + 1;
  Sent s = handshake(&driver_, other);
  ASSERT_EQ(s.status, STATUS_SUCCESS) << "the driver answers its own version whatever the client's";
  EXPECT_EQ(s.answer.version.wire_version, static_cast<std::uint32_t>(PS_WIRE_VERSION));
  auto agreed = check_driver_version(s.answer, other);
  ASSERT_FALSE(agreed);
  const std::string& line = agreed.error().message;
  EXPECT_NE(
      line.find("speaks wire version " + std::to_string(PS_WIRE_VERSION) + ", this client " + std::to_string(other)),
      std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

TEST_F(DriverVersion, MalformedHandshakesAreRefusedWithoutAnAnswer) {
  EXPECT_EQ(handshake(&driver_, PS_WIRE_VERSION, PS_IOCTL_VERSION, 0).status, STATUS_INVALID_PARAMETER);
  EXPECT_EQ(handshake(&driver_, PS_WIRE_VERSION, PS_IOCTL_VERSION, 12).status, STATUS_INVALID_PARAMETER);
  EXPECT_EQ(handshake(&driver_, PS_WIRE_VERSION, PS_IOCTL_VERSION, sizeof(ps_device_version), 4).status,
            STATUS_BUFFER_TOO_SMALL);
}

// What a client meets in a driver older than the handshake: the IOCTL is unknown to it.
TEST_F(DriverVersion, ADriverWithoutTheHandshakeIsRefusedInOneLine) {
  Sent s = handshake(&driver_, PS_WIRE_VERSION, PS_IOCTL_VERSION + 4);
  ASSERT_EQ(s.status, STATUS_INVALID_DEVICE_REQUEST);
  auto agreed = check_driver_version(s.answer);
  ASSERT_FALSE(agreed);
  EXPECT_NE(agreed.error().message.find("older than this client"), std::string::npos) << agreed.error().message;
}

// The handshake leaves the channel as it was: a read after it still gets the records.
TEST_F(DriverVersion, ReadsWorkAfterTheHandshake) {
  ASSERT_EQ(handshake(&driver_, PS_WIRE_VERSION).status, STATUS_SUCCESS);
  FakeProcess p(4242, 4, u"C:\\x.exe", u"x", 0);
  ASSERT_TRUE(p.create());
  kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
  EXPECT_EQ(send_bounded(&driver_, r), STATUS_SUCCESS);
  EXPECT_GT(r->irp.IoStatus.Information, sizeof(ps_header));
  kemu::free_request(r);
}

// A read as the client sends it; its status, and the bytes it returned.
std::pair<NTSTATUS, ULONG_PTR> read_once(PDRIVER_OBJECT driver) {
  kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
  NTSTATUS status = send_bounded(driver, r);
  if (status == STATUS_PENDING) {
    kemu::cancel(r);
    kemu::wait(r, 10'000);
    status = r->irp.IoStatus.Status;
  }
  EXPECT_EQ(kemu::completions(r), 1);
  ULONG_PTR bytes = r->irp.IoStatus.Information;
  kemu::free_request(r);
  return {status, bytes};
}

// A client older than the handshake (it reads at once): refused, and the records wait for a
// client that can read them.
TEST_F(DriverVersion, TheDriverRefusesReadsBeforeTheHandshake) {
  close_client();
  kemu::File file;
  ASSERT_EQ(kemu::open(&driver_, &file), STATUS_SUCCESS);
  FakeProcess p(4242, 4, u"C:\\x.exe", u"x", 0);
  ASSERT_TRUE(p.create());
  auto [status, bytes] = read_once(&driver_);
  EXPECT_EQ(status, STATUS_REVISION_MISMATCH);
  EXPECT_EQ(bytes, 0u);
  ASSERT_EQ(say_version(&driver_, PS_WIRE_VERSION), STATUS_SUCCESS);
  auto [after, after_bytes] = read_once(&driver_);
  EXPECT_EQ(after, STATUS_SUCCESS);
  EXPECT_GT(after_bytes, sizeof(ps_header)) << "the record waited for the handshake";
  EXPECT_EQ(kemu::cleanup(&driver_, &file), STATUS_SUCCESS);
  EXPECT_EQ(kemu::close(&driver_, &file), STATUS_SUCCESS);
}

// A client of another version gets the driver's version (to name it) but no records, on this
// open and whatever it said before; saying the right version again opens the reads.
TEST_F(DriverVersion, TheDriverRefusesReadsFromAClientOfAnotherVersion) {
  FakeProcess p(4242, 4, u"C:\\x.exe", u"x", 0);
  ASSERT_TRUE(p.create());
  for (std::uint32_t other : {PS_WIRE_VERSION + 1u, PS_WIRE_VERSION - 1u, 0u}) {
    Sent s = handshake(&driver_, other);
    ASSERT_EQ(s.status, STATUS_SUCCESS);
    EXPECT_EQ(s.answer.version.wire_version, static_cast<std::uint32_t>(PS_WIRE_VERSION));
    auto [status, bytes] = read_once(&driver_);
    EXPECT_EQ(status, STATUS_REVISION_MISMATCH) << "client version " << other;
    EXPECT_EQ(bytes, 0u);
  }
  ASSERT_EQ(handshake(&driver_, PS_WIRE_VERSION).status, STATUS_SUCCESS);
  auto [status, bytes] = read_once(&driver_);
  EXPECT_EQ(status, STATUS_SUCCESS);
  EXPECT_GT(bytes, sizeof(ps_header));
}

// The agreement belongs to one open: the next client says its version again.
TEST_F(DriverVersion, ANewOpenForgetsThePreviousHandshake) {
  close_client();
  kemu::File file;
  ASSERT_EQ(kemu::open(&driver_, &file), STATUS_SUCCESS);
  EXPECT_EQ(read_once(&driver_).first, STATUS_REVISION_MISMATCH);
  EXPECT_EQ(kemu::cleanup(&driver_, &file), STATUS_SUCCESS);
  EXPECT_EQ(kemu::close(&driver_, &file), STATUS_SUCCESS);
}

}  // namespace
}  // namespace procsentry::driver_test
