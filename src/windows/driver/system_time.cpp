#include "system_time.h"

namespace procsentry::driver {
namespace {

using QuerySystemTime = VOID(NTAPI*)(PLARGE_INTEGER);
QuerySystemTime g_precise = nullptr;

}  // namespace

void resolve_system_time() {
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"KeQuerySystemTimePrecise");
  g_precise = reinterpret_cast<QuerySystemTime>(MmGetSystemRoutineAddress(&name));
}

ULONG64 now_epoch_ns() {
  LARGE_INTEGER now;
  if (g_precise != nullptr) {
    g_precise(&now);
  } else {
    KeQuerySystemTime(&now);
  }
  return windows_time_to_epoch_ns(now.QuadPart);
}

ULONG current_cpu() { return KeGetCurrentProcessorNumberEx(nullptr); }

}  // namespace procsentry::driver
