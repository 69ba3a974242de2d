// The clock of every record: KeQuerySystemTimePrecise (Windows 8+, sub-microsecond) where the
// kernel exports it, else KeQuerySystemTime (the clock tick, ~15.6 ms). Resolved once by
// name, so the image still loads on a kernel without it (a direct import would not).
#pragma once

#include "kernel.h"

namespace procsentry::driver {

// DriverEntry, PASSIVE_LEVEL, before any callback can run: nothing writes it afterwards.
void resolve_system_time();
// Any IRQL: ns since the Unix epoch.
ULONG64 now_epoch_ns();
// The processor running the caller (diagnostics: ps_header.cpu).
ULONG current_cpu();

}  // namespace procsentry::driver
