#pragma once

#include "kernel.h"

namespace procsentry::driver {

// Restricts the device to SYSTEM and Administrators (SDDL D:P(A;;GA;;;SY)(A;;GA;;;BA), the
// DACL protected from inheritance).
// IoCreateDeviceSecure does this in the WDK, but it lives in the static wdmsec.lib that
// mingw-w64 does not ship, so the same DACL is applied with ntoskrnl exports.
NTSTATUS restrict_to_admins(PDEVICE_OBJECT device);

}  // namespace procsentry::driver
