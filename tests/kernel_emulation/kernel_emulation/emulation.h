// The test side of the emulation: what the "kernel" offers the harness (process events,
// a client's IRPs) and what it observed (pool accounting, violations).
#pragma once

#include <string>
#include <vector>

#include "kernel_emulation/ddk.h"

// A primary token: what ZwQueryInformationToken answers for each class.
struct EmulatedToken {
  SID user{};                      // TokenUser (kemu::sid_from_string builds one)
  ULONG integrity_rid = 0x2000;    // TokenIntegrityLevel: the label S-1-16-<rid> (medium)
  ULONG elevated = 0;              // TokenElevation
  ULONG elevation_type = 1;        // TokenElevationType: default
  LUID logon_id{0x3e7, 0};         // TokenStatistics.AuthenticationId (SYSTEM's logon session)
  TOKEN_TYPE type = TokenPrimary;  // TokenStatistics.TokenType
  ULONG failing_classes = 0;       // 1 << class: ZwQueryInformationToken fails for it
  bool open_fails = false;         // ObOpenObjectByPointer refuses a handle to it
};

struct _EPROCESS {
  NTSTATUS exit_status = 0;
  ULONG session_id = 1;
  LONGLONG create_time = 0;  // PsGetProcessCreateTimeQuadPart: 100 ns since 1601
  EmulatedToken token;       // PsReferencePrimaryToken's
};

namespace kemu {

struct PoolStats {
  std::size_t live_allocations = 0;
  std::size_t live_bytes = 0;
  std::size_t peak_bytes = 0;
  std::size_t total_allocations = 0;
};

// Driver Verifier-style findings. A test expects none, except the seed's negative control.
struct Violations {
  std::size_t double_frees = 0;
  std::size_t unknown_frees = 0;
  std::size_t wrong_tag_frees = 0;
  std::size_t irql_errors = 0;
  std::size_t double_completions = 0;
  std::size_t reference_errors = 0;  // a process or token dereferenced more than referenced, or gone while referenced
  std::size_t handle_errors = 0;     // ZwClose of a handle not open, a query through one
  std::size_t completed_cancellable = 0;  // an IRP completed with its cancel routine still set
  std::size_t total() const {
    return double_frees + unknown_frees + wrong_tag_frees + irql_errors + double_completions + reference_errors +
           handle_errors + completed_cancellable;
  }
};

// The process table PsLookupProcessByProcessId reads. System (pid 4) is always there, created
// at kSystemCreateTime; a test adds the processes it wants found (FakeProcess does).
constexpr LONGLONG kSystemCreateTime = 133000000000000000LL;
void add_process(HANDLE pid, PEPROCESS process);
void remove_process(HANDLE pid, PEPROCESS process);  // a reference still held is a violation
std::size_t process_references();                    // held by the driver now: 0 between callbacks
std::size_t token_references();                      // PsReferencePrimaryToken's, held now
std::size_t open_handles();                          // ObOpenObjectByPointer's, not yet closed
std::size_t token_queries();                         // ZwQueryInformationToken calls so far
// "S-1-5-21-1-2-3-1001" in its binary form; a SID of length 0 if the text is not one.
SID sid_from_string(const std::string& text);

void reset();  // between tests: forget allocations, violations, devices, links, registration
PoolStats pool_stats(ULONG tag);
Violations violations();
void set_pool_failure_every(std::size_t n);  // 0: never; n: every n-th allocation fails

// Calls the registered process-notify routine the way Windows does (PASSIVE_LEVEL, from the
// calling thread; many threads may call at once). False when no routine is registered.
// A subsystem (pico) process (info->IsSubsystemProcess, or `subsystem` for its exit) reaches
// only a routine registered through PsSetCreateProcessNotifyRoutineEx2 for subsystems.
bool notify_create(PEPROCESS process, HANDLE pid, PS_CREATE_NOTIFY_INFO* info);
bool notify_exit(PEPROCESS process, HANDLE pid, bool subsystem = false);
bool notify_registered();
// Which routine registered the callback: "Ex", "Ex2" (for subsystems) or "" (none). Removing
// it with the other routine fails, as on Windows, and leaves it registered.
std::string notify_registered_with();
// Whether MmGetSystemRoutineAddress finds PsSetCreateProcessNotifyRoutineEx2 (before
// DriverEntry; reset() makes it available, as on Windows 10 1703+).
void set_notify_ex2_available(bool available);

// A client's device-control request, dispatched to the driver as the IO manager would.
struct Request {
  IRP irp;
  std::vector<UCHAR> buffer;
};
Request* new_read(ULONG output_length, ULONG input_length = 0, ULONG code = 0x00226000u);
NTSTATUS send(PDRIVER_OBJECT driver, Request* request);  // STATUS_PENDING or the final status
bool wait(Request* request, int timeout_ms);             // until completed
void cancel(Request* request);                           // IoCancelIrp, from the calling thread
int completions(const Request* request);
void free_request(Request* request);

struct AllowedAce {
  ACCESS_MASK mask;
  std::string sid;  // "S-1-5-18", "S-1-5-32-544"
};
std::vector<AllowedAce> device_dacl(PDEVICE_OBJECT device);
// The device's security as SDDL ("D:P(A;;GA;;;SY)..."): the DACL, and P when the descriptor
// set on it had SE_DACL_PROTECTED. Empty if none was set.
std::string device_sddl(PDEVICE_OBJECT device);

// A client's handle to the device: the FILE_OBJECT the IO manager builds for
// \\.\procsentry<name> (name "" or "\\anything"), optionally relative to another open.
struct File {
  explicit File(std::u16string name = {}, File* related = nullptr);
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  std::u16string name;
  _FILE_OBJECT object{};
};
// IRP_MJ_CREATE; on an exclusive device with a file not yet closed, STATUS_ACCESS_DENIED
// without reaching the driver, as the IO manager does.
NTSTATUS open(PDRIVER_OBJECT driver, File* file);
NTSTATUS cleanup(PDRIVER_OBJECT driver, File* file);  // the last handle closed
NTSTATUS close(PDRIVER_OBJECT driver, File* file);    // the last reference gone

// The clock: with `available` false, MmGetSystemRoutineAddress does not find
// KeQuerySystemTimePrecise (Windows 7). Set before DriverEntry; reset() makes it available.
constexpr LONGLONG kClockTick = 156'250;  // 15.625 ms in 100 ns units
void set_precise_time_available(bool available);
struct TimeQueries {
  std::size_t precise = 0;
  std::size_t coarse = 0;
};
TimeQueries time_queries();

// Which IoCsq routines MmGetSystemRoutineAddress finds; set before DriverEntry (reset() makes
// it windows). windows: IoCsqInitializeEx, IoCsqInsertIrpEx, IoCsqRemoveNextIrp. wine8: as Wine
// 8's ntoskrnl.exe, no Ex routine, and IoCsqInsertIrp, IoCsqRemoveIrp, IoCsqRemoveNextIrp found
// but stubs that abort when called (the driver must fall back to its own cancel routine).
enum class CsqExports { windows, wine8 };
void set_csq_exports(CsqExports exports);
// PROCSENTRY_KEMU_CSQ=wine8, else windows: how ctest runs the driver tests on both paths.
CsqExports csq_exports_from_environment();
std::size_t csq_insertions();  // IoCsqInsertIrpEx calls since reset()

// KeGetCurrentProcessorNumberEx for the calling thread: what the test set, else a number
// 0..7 given to the thread on first use.
void set_current_processor(ULONG cpu);
ULONG current_processor();
std::size_t live_devices();
std::size_t live_links();
bool device_is_exclusive(PDEVICE_OBJECT device);

}  // namespace kemu
