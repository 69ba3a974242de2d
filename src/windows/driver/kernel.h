// The one include of the driver: the DDK (mingw-w64), or its user-mode emulation when the
// same sources are compiled on Linux for the concurrency harness (tests/kernel_emulation/).
// Kernel-safe C++ only: no exceptions, RTTI, STL or CRT beyond what ntoskrnl exports.
#pragma once

#ifdef PROCSENTRY_KERNEL_EMULATION
#include "kernel_emulation/ddk.h"
#else
// mingw-w64's ddk headers compile as C++ once these intrinsics are declared as present.
#define __INTRINSIC_DEFINED_InterlockedBitTestAndSet
#define __INTRINSIC_DEFINED_InterlockedBitTestAndReset
#include <ntifs.h>  // ntddk.h plus the security APIs (SIDs, ACLs)
extern "C" NTKERNELAPI NTSTATUS NTAPI PsGetProcessExitStatus(PEPROCESS Process);
extern "C" NTKERNELAPI ULONG NTAPI PsGetProcessSessionId(PEPROCESS Process);
extern "C" NTKERNELAPI LONGLONG NTAPI PsGetProcessCreateTimeQuadPart(PEPROCESS Process);
#endif

#define PROCSENTRY_KERNEL_DRIVER 1
#include "procsentry/wire/windows_device.h"

namespace procsentry::driver {

// "PSsr" in pool tools, built bytewise (multi-character literals are implementation-defined).
constexpr ULONG kPoolTag = 'P' | ('S' << 8) | ('s' << 16) | (static_cast<ULONG>('r') << 24);

// Windows time (100 ns since 1601) -> ns since the Unix epoch.
inline ULONG64 windows_time_to_epoch_ns(LONGLONG t) {
  constexpr LONGLONG kEpochDelta = 116444736000000000LL;
  return t > kEpochDelta ? static_cast<ULONG64>(t - kEpochDelta) * 100 : 0;
}

}  // namespace procsentry::driver
