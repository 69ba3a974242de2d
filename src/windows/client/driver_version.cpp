#include "driver_version.h"

#include <fmt/core.h>

namespace procsentry {
namespace {

constexpr const char* kReinstall =
    "install the driver built with this client (procsentry.exe uninstall, then procsentry.exe install and "
    "procsentry.exe start with its procsentry.sys)";

}  // namespace

Result<Ok> check_driver_version(const DriverVersionAnswer& answer, std::uint32_t client_version) {
  if (!answer.answered) {
    return Error{
        fmt::format("the procsentry driver is older than this client (no version handshake; the client "
                    "speaks wire version {}): {}",
                    client_version, kReinstall)};
  }
  if (answer.bytes != sizeof(ps_device_version)) {
    return Error{fmt::format("the procsentry driver's version answer is {} bytes, not {}: {}", answer.bytes,
                             sizeof(ps_device_version), kReinstall)};
  }
  if (answer.version.wire_version != client_version) {
    return Error{fmt::format("the procsentry driver speaks wire version {}, this client {}: {}",
                             answer.version.wire_version, client_version, kReinstall)};
  }
  return Ok{};
}

}  // namespace procsentry
