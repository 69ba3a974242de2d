#include "notify_registration.h"

namespace procsentry::driver {
namespace {

using SetNotifyEx2 = NTSTATUS(NTAPI*)(PSCREATEPROCESSNOTIFYTYPE type, PVOID routine, BOOLEAN remove);
// Not imported: an import the kernel does not export would stop the driver from loading on
// Windows before 1703 (and under Wine, which has no Ex2). Set only while registered with it.
SetNotifyEx2 g_ex2 = nullptr;

}  // namespace

NTSTATUS register_process_notify(PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine) {
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"PsSetCreateProcessNotifyRoutineEx2");
  auto ex2 = reinterpret_cast<SetNotifyEx2>(MmGetSystemRoutineAddress(&name));
  if (ex2 != nullptr) {
    NTSTATUS status = ex2(PsCreateProcessNotifySubsystems, reinterpret_cast<PVOID>(routine), FALSE);
    if (NT_SUCCESS(status)) g_ex2 = ex2;
    return status;
  }
  return PsSetCreateProcessNotifyRoutineEx(routine, FALSE);
}

void unregister_process_notify(PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine) {
  if (g_ex2 != nullptr) {
    g_ex2(PsCreateProcessNotifySubsystems, reinterpret_cast<PVOID>(routine), TRUE);
    g_ex2 = nullptr;
  } else {
    PsSetCreateProcessNotifyRoutineEx(routine, TRUE);
  }
}

bool notify_includes_subsystems() { return g_ex2 != nullptr; }

}  // namespace procsentry::driver
