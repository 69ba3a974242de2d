// Registering the process-notify callback: PsSetCreateProcessNotifyRoutineEx2 where the
// kernel exports it (Windows 10 1703+), so that WSL's pico processes are reported too
// (PsCreateProcessNotifySubsystems); PsSetCreateProcessNotifyRoutineEx elsewhere.
#pragma once

#include "kernel.h"

namespace procsentry::driver {

#ifndef PROCSENTRY_KERNEL_EMULATION
// ntddk.h's, which mingw-w64's DDK lacks.
typedef enum _PSCREATEPROCESSNOTIFYTYPE { PsCreateProcessNotifySubsystems = 0 } PSCREATEPROCESSNOTIFYTYPE;
#endif

// PASSIVE_LEVEL, from DriverEntry. Fails with STATUS_ACCESS_DENIED unless the image has the
// force-integrity flag.
NTSTATUS register_process_notify(PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine);
// With the routine that registered it: a callback registered through Ex2 is not found by Ex
// (it would stay registered past the unload). After it returns no callback runs.
void unregister_process_notify(PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine);
// Whether the registration includes subsystem (pico) processes.
bool notify_includes_subsystems();

}  // namespace procsentry::driver
