// The Windows client's version decision (src/windows/client/driver_version.cpp): which driver
// answers it accepts, and the one line it gives for each it refuses.
#include "driver_version.h"

#include <gtest/gtest.h>

#include <string>

namespace procsentry {
namespace {

DriverVersionAnswer answer_of(std::uint32_t driver_version, std::size_t bytes = sizeof(ps_device_version)) {
  DriverVersionAnswer a;
  a.answered = true;
  a.bytes = bytes;
  a.version.wire_version = driver_version;
  return a;
}

std::string refusal(const DriverVersionAnswer& answer, std::uint32_t client_version) {
  auto checked = check_driver_version(answer, client_version);
  EXPECT_FALSE(checked);
  if (checked) return {};
  EXPECT_EQ(checked.error().message.find('\n'), std::string::npos) << "one line";
  EXPECT_NE(checked.error().message.find("procsentry.exe uninstall"), std::string::npos) << "says what to do";
  return checked.error().message;
}

TEST(WindowsClientVersion, AcceptsADriverOfItsOwnWireVersion) {
  EXPECT_TRUE(check_driver_version(answer_of(PS_WIRE_VERSION)));
  EXPECT_TRUE(check_driver_version(answer_of(7), 7));
}

TEST(WindowsClientVersion, RefusesANewerOrOlderDriverNamingBothVersions) {
  EXPECT_NE(refusal(answer_of(3), 2).find("speaks wire version 3, this client 2"), std::string::npos);
  EXPECT_NE(refusal(answer_of(1), 2).find("speaks wire version 1, this client 2"), std::string::npos);
}

TEST(WindowsClientVersion, RefusesADriverWithoutTheHandshake) {
  EXPECT_NE(refusal(DriverVersionAnswer{}, 2).find("older than this client"), std::string::npos);
}

TEST(WindowsClientVersion, RefusesAMalformedAnswer) {
  EXPECT_NE(refusal(answer_of(2, 4), 2).find("4 bytes, not 8"), std::string::npos);
  EXPECT_NE(refusal(answer_of(2, 0), 2).find("0 bytes, not 8"), std::string::npos);
}

}  // namespace
}  // namespace procsentry
