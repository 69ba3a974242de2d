// The version handshake end to end: the driver's PS_IOCTL_VERSION answer, handed to the
// client's own decision (src/windows/client/driver_version.cpp) as DeviceSource::open does.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

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

}  // namespace
}  // namespace procsentry::driver_test
