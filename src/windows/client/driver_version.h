// The client's half of the version handshake (PS_IOCTL_VERSION): what the driver's answer
// means for the user. No Windows API here, so the decision is tested on Linux too.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/result.h"
#include "procsentry/wire/windows_device.h"

namespace procsentry {

// DeviceIoControl(PS_IOCTL_VERSION) as it came back: answered is false when the driver
// refused the IOCTL (a driver older than the handshake), bytes is what it wrote.
struct DriverVersionAnswer {
  bool answered = false;
  std::size_t bytes = 0;
  ps_device_version version{};
};

// Ok when the driver speaks client_version; else one line saying which versions met and what
// to do.
Result<Ok> check_driver_version(const DriverVersionAnswer& answer, std::uint32_t client_version = PS_WIRE_VERSION);

}  // namespace procsentry
