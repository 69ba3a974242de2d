#include "kernel_emulation/emulation.h"

#include "kernel_emulation/internal.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace {

struct Allocation {
  ULONG tag;
  SIZE_T bytes;
};

// The emulated kernel's own bookkeeping. It is the harness's state, not the driver's: one
// mutex guards it, and the driver under test never touches it directly.
struct Kernel {
  std::mutex mutex;
  std::unordered_map<void*, Allocation> allocations;
  std::map<ULONG, kemu::PoolStats> pool_by_tag;
  kemu::Violations violations;
  std::size_t fail_every = 0;
  std::size_t allocation_counter = 0;
  std::set<PDEVICE_OBJECT> devices;
  std::map<PDEVICE_OBJECT, std::vector<kemu::AllowedAce>> dacls;
  std::map<PDEVICE_OBJECT, bool> dacl_protected;
  std::map<PDEVICE_OBJECT, PFILE_OBJECT> open_files;  // exclusive devices: the one not yet closed
  bool precise_time = true;
  kemu::CsqExports csq_exports = kemu::CsqExports::windows;
  std::size_t csq_insertions = 0;
  std::size_t precise_queries = 0;
  std::size_t coarse_queries = 0;
  std::set<PDEVICE_OBJECT> exclusive_devices;
  std::set<std::u16string> links;

  std::map<HANDLE, PEPROCESS> processes;
  std::map<PEPROCESS, long> references;
  std::map<HANDLE, long> handles;  // ObOpenObjectByPointer's (the handle is the object) -> opens

  std::shared_mutex registration;  // shared: callbacks in flight; exclusive: (un)registering
  PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine = nullptr;
  bool routine_ex2 = false;   // registered through Ex2 for subsystems
  bool ex2_available = true;  // MmGetSystemRoutineAddress finds PsSetCreateProcessNotifyRoutineEx2
};

Kernel& kernel() {
  static Kernel k;
  return k;
}

thread_local KIRQL current_irql = PASSIVE_LEVEL;

void irql_violation() {
  std::lock_guard lock(kernel().mutex);
  kernel().violations.irql_errors++;
}

std::u16string to_u16(const UNICODE_STRING* s) { return std::u16string(s->Buffer, s->Length / 2); }

_EPROCESS g_system_process{0, 0, kemu::kSystemCreateTime, {}};
HANDLE pid_handle(ULONG pid) { return reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(pid)); }

std::string sid_string(const UCHAR* sid) {
  std::string s = "S-" + std::to_string(sid[0]) + "-" + std::to_string(sid[7]);
  for (UCHAR i = 0; i < sid[1]; ++i) {
    const UCHAR* sub = sid + 8 + 4 * i;
    s += "-" + std::to_string(sub[0] | (sub[1] << 8) | (sub[2] << 16) | (sub[3] << 24));
  }
  return s;
}

bool call_routine(PEPROCESS process, HANDLE pid, PS_CREATE_NOTIFY_INFO* info, bool subsystem) {
  std::shared_lock lock(kernel().registration);
  if (kernel().routine == nullptr) return false;
  if (subsystem && !kernel().routine_ex2) return false;  // Ex's routines never see pico processes
  if (current_irql != PASSIVE_LEVEL) irql_violation();
  if (info != nullptr) kemu::enter_create_callback();
  kernel().routine(process, pid, info);
  if (info != nullptr) kemu::leave_create_callback();
  if (current_irql != PASSIVE_LEVEL) irql_violation();  // the callback must restore IRQL
  return true;
}

}  // namespace

void KeBugCheckEx(ULONG code, ULONG_PTR parameter1, const char* what) {
  std::fprintf(stderr, "kemu: BUGCHECK 0x%X (0x%lX): %s\n", static_cast<unsigned>(code),
               static_cast<unsigned long>(parameter1), what);
  std::fflush(stderr);
  std::abort();
}

PVOID ExAllocatePoolWithTag(POOL_TYPE pool, SIZE_T bytes, ULONG tag) {
  kemu::schedule_point(kemu::Point::pool_alloc);
  if (pool == PagedPool && current_irql > PASSIVE_LEVEL + 1) irql_violation();
  Kernel& k = kernel();
  std::lock_guard lock(k.mutex);
  if (k.fail_every != 0 && ++k.allocation_counter % k.fail_every == 0) return nullptr;
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) return nullptr;
  std::memset(p, 0xA5, bytes);  // like the special pool: callers must not rely on zeroes
  k.allocations[p] = Allocation{tag, bytes};
  kemu::PoolStats& s = k.pool_by_tag[tag];
  s.live_allocations++;
  s.total_allocations++;
  s.live_bytes += bytes;
  if (s.live_bytes > s.peak_bytes) s.peak_bytes = s.live_bytes;
  return p;
}

VOID ExFreePoolWithTag(PVOID p, ULONG tag) {
  kemu::schedule_point(kemu::Point::pool_free);
  Kernel& k = kernel();
  std::unique_lock lock(k.mutex);
  auto it = k.allocations.find(p);
  if (it == k.allocations.end()) {
    // Freed twice or never allocated: the seed's bug class. Count it and do not touch the
    // memory again (the real kernel would bug-check here).
    k.violations.double_frees++;
    return;
  }
  if (it->second.tag != tag) k.violations.wrong_tag_frees++;
  kemu::PoolStats& s = k.pool_by_tag[it->second.tag];
  s.live_allocations--;
  s.live_bytes -= it->second.bytes;
  SIZE_T bytes = it->second.bytes;
  k.allocations.erase(it);
  lock.unlock();
  std::memset(p, 0xDD, bytes);  // freed memory poisoned for readers that still hold it
  std::free(p);
}

VOID KeInitializeSpinLock(PKSPIN_LOCK lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

VOID KeAcquireSpinLock(PKSPIN_LOCK lock, PKIRQL old_irql) {
  if (current_irql > DISPATCH_LEVEL) irql_violation();
  kemu::schedule_point(kemu::Point::spin_acquire);
  *old_irql = current_irql;
  current_irql = DISPATCH_LEVEL;
  for (;;) {
    ULONG_PTR expected = 0;
    if (__atomic_compare_exchange_n(lock, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    while (__atomic_load_n(lock, __ATOMIC_RELAXED) != 0) std::this_thread::yield();
  }
}

VOID KeReleaseSpinLock(PKSPIN_LOCK lock, KIRQL new_irql) {
  if (__atomic_load_n(lock, __ATOMIC_RELAXED) == 0) irql_violation();  // releasing a free lock
  __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
  current_irql = new_irql;
  kemu::schedule_point(kemu::Point::spin_release);
}

static LONGLONG system_time_now() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() / 100 + 116444736000000000LL;
}

VOID KeQuerySystemTime(LARGE_INTEGER* time) {
  {
    std::lock_guard lock(kernel().mutex);
    kernel().coarse_queries++;
  }
  LONGLONG now = system_time_now();
  time->QuadPart = now - now % kemu::kClockTick;
}

static VOID KeQuerySystemTimePrecise(PLARGE_INTEGER time) {
  {
    std::lock_guard lock(kernel().mutex);
    kernel().precise_queries++;
  }
  time->QuadPart = system_time_now();
}

static NTSTATUS PsSetCreateProcessNotifyRoutineEx2(PSCREATEPROCESSNOTIFYTYPE type, PVOID routine, BOOLEAN remove);
namespace {
PVOID csq_routine(const std::u16string& name, kemu::CsqExports exports);
}  // namespace

PVOID MmGetSystemRoutineAddress(PUNICODE_STRING name) {
  if (current_irql != PASSIVE_LEVEL) irql_violation();
  std::lock_guard lock(kernel().mutex);
  const std::u16string wanted = to_u16(name);
  if (wanted == u"KeQuerySystemTimePrecise" && kernel().precise_time) {
    return reinterpret_cast<PVOID>(&KeQuerySystemTimePrecise);
  }
  if (wanted == u"PsSetCreateProcessNotifyRoutineEx2" && kernel().ex2_available) {
    return reinterpret_cast<PVOID>(&PsSetCreateProcessNotifyRoutineEx2);
  }
  return csq_routine(wanted, kernel().csq_exports);
}

ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER number) {
  ULONG cpu = kemu::current_processor();
  if (number != nullptr) *number = PROCESSOR_NUMBER{0, static_cast<UCHAR>(cpu), 0};
  return cpu;
}

VOID RtlInitUnicodeString(PUNICODE_STRING destination, PCWSTR source) {
  // L"" is UTF-32 on Linux: intern a UTF-16 copy (device names are ASCII).
  static std::mutex mutex;
  static std::set<std::u16string> interned;
  std::u16string converted;
  for (const wchar_t* c = source; *c != 0; ++c) converted += static_cast<char16_t>(*c);
  std::lock_guard lock(mutex);
  const std::u16string& kept = *interned.insert(converted).first;
  destination->Buffer = const_cast<WCHAR*>(kept.data());
  destination->Length = static_cast<USHORT>(kept.size() * 2);
  destination->MaximumLength = destination->Length;
}

NTSTATUS IoCreateDevice(PDRIVER_OBJECT driver, ULONG extension_size, PUNICODE_STRING, ULONG, ULONG, BOOLEAN exclusive,
                        PDEVICE_OBJECT* device) {
  auto* d = new DEVICE_OBJECT{};
  d->DriverObject = driver;
  d->DeviceExtension = std::calloc(1, extension_size);
  d->Flags = DO_DEVICE_INITIALIZING;
  driver->DeviceObject = d;
  std::lock_guard lock(kernel().mutex);
  kernel().devices.insert(d);
  if (exclusive) kernel().exclusive_devices.insert(d);
  *device = d;
  return STATUS_SUCCESS;
}

VOID IoDeleteDevice(PDEVICE_OBJECT device) {
  {
    std::lock_guard lock(kernel().mutex);
    kernel().devices.erase(device);
    kernel().exclusive_devices.erase(device);
    kernel().dacls.erase(device);
    kernel().dacl_protected.erase(device);
    kernel().open_files.erase(device);
  }
  if (device->DriverObject->DeviceObject == device) device->DriverObject->DeviceObject = nullptr;
  std::free(device->DeviceExtension);
  delete device;
}

NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING link, PUNICODE_STRING) {
  std::lock_guard lock(kernel().mutex);
  return kernel().links.insert(to_u16(link)).second ? STATUS_SUCCESS : STATUS_OBJECT_NAME_COLLISION;
}

NTSTATUS IoDeleteSymbolicLink(PUNICODE_STRING link) {
  std::lock_guard lock(kernel().mutex);
  kernel().links.erase(to_u16(link));
  return STATUS_SUCCESS;
}

void IoCompleteRequest(PIRP irp, char) {
  if (current_irql > DISPATCH_LEVEL) irql_violation();
  if (__atomic_load_n(&irp->CancelRoutine, __ATOMIC_ACQUIRE) != nullptr) {
    // Driver Verifier's "IRP completed with a cancel routine set": IoCancelIrp could call it.
    std::lock_guard lock(kernel().mutex);
    kernel().violations.completed_cancellable++;
  }
  if (irp->completions.fetch_add(1) != 0) {
    std::lock_guard lock(kernel().mutex);
    kernel().violations.double_completions++;
    return;
  }
  std::lock_guard lock(irp->mutex);
  irp->completed.notify_all();
}

static KSPIN_LOCK g_cancel_lock = 0;

VOID IoAcquireCancelSpinLock(PKIRQL irql) { KeAcquireSpinLock(&g_cancel_lock, irql); }
VOID IoReleaseCancelSpinLock(KIRQL irql) { KeReleaseSpinLock(&g_cancel_lock, irql); }

// The IO manager's cancel-safe queue, as documented: the queue's own cancel routine, the
// queue in DriverContext[3], a read whose cancel routine was taken left to that routine.
namespace {

VOID csq_cancel_routine(PDEVICE_OBJECT, PIRP irp) {
  IoReleaseCancelSpinLock(irp->CancelIrql);
  auto csq = static_cast<PIO_CSQ>(irp->Tail.Overlay.DriverContext[3]);
  KIRQL irql;
  csq->acquire(csq, &irql);
  csq->remove(csq, irp);
  csq->release(csq, irql);
  csq->complete_canceled(csq, irp);
}

NTSTATUS IoCsqInitializeEx(PIO_CSQ csq, PIO_CSQ_INSERT_IRP_EX insert, PIO_CSQ_REMOVE_IRP remove,
                           PIO_CSQ_PEEK_NEXT_IRP peek, PIO_CSQ_ACQUIRE_LOCK acquire, PIO_CSQ_RELEASE_LOCK release,
                           PIO_CSQ_COMPLETE_CANCELED_IRP complete_canceled) {
  *csq = _IO_CSQ{insert, remove, peek, acquire, release, complete_canceled};
  return STATUS_SUCCESS;
}

NTSTATUS IoCsqInsertIrpEx(PIO_CSQ csq, PIRP irp, PIO_CSQ_IRP_CONTEXT, PVOID insert_context) {
  kemu::schedule_point(kemu::Point::read_pend);
  {
    std::lock_guard lock(kernel().mutex);
    kernel().csq_insertions++;
  }
  KIRQL irql;
  csq->acquire(csq, &irql);
  irp->PendingReturned = TRUE;  // IoMarkIrpPending, first (a refused IRP stays marked)
  NTSTATUS status = csq->insert(csq, irp, insert_context);
  if (!NT_SUCCESS(status)) {
    csq->release(csq, irql);
    return status;
  }
  irp->Tail.Overlay.DriverContext[3] = csq;
  IoSetCancelRoutine(irp, csq_cancel_routine);
  if (irp->Cancel && IoSetCancelRoutine(irp, nullptr) != nullptr) {
    // Cancelled before it was queued: IoCancelIrp found no routine, so it is the queue's.
    csq->remove(csq, irp);
    csq->release(csq, irql);
    csq->complete_canceled(csq, irp);
    return STATUS_SUCCESS;
  }
  csq->release(csq, irql);
  return STATUS_SUCCESS;
}

PIRP IoCsqRemoveNextIrp(PIO_CSQ csq, PVOID peek_context) {
  KIRQL irql;
  csq->acquire(csq, &irql);
  PIRP irp = csq->peek(csq, nullptr, peek_context);
  while (irp != nullptr && IoSetCancelRoutine(irp, nullptr) == nullptr) irp = csq->peek(csq, irp, peek_context);
  if (irp != nullptr) {
    csq->remove(csq, irp);
    irp->Tail.Overlay.DriverContext[3] = nullptr;
  }
  csq->release(csq, irql);
  return irp;
}

// Wine 8's ntoskrnl.exe exports these as stubs: found by name, fatal when called.
[[noreturn]] void wine_stub(const char* name) {
  std::fprintf(stderr, "wine: Call from kemu to unimplemented function ntoskrnl.exe.%s, aborting\n", name);
  std::fflush(stderr);
  std::abort();
}
VOID IoCsqInsertIrp_stub(PIO_CSQ, PIRP, PIO_CSQ_IRP_CONTEXT) { wine_stub("IoCsqInsertIrp"); }
PIRP IoCsqRemoveIrp_stub(PIO_CSQ, PIO_CSQ_IRP_CONTEXT) { wine_stub("IoCsqRemoveIrp"); }
PIRP IoCsqRemoveNextIrp_stub(PIO_CSQ, PVOID) { wine_stub("IoCsqRemoveNextIrp"); }

PVOID csq_routine(const std::u16string& name, kemu::CsqExports exports) {
  if (exports == kemu::CsqExports::windows) {
    if (name == u"IoCsqInitializeEx") return reinterpret_cast<PVOID>(&IoCsqInitializeEx);
    if (name == u"IoCsqInsertIrpEx") return reinterpret_cast<PVOID>(&IoCsqInsertIrpEx);
    if (name == u"IoCsqRemoveNextIrp") return reinterpret_cast<PVOID>(&IoCsqRemoveNextIrp);
    return nullptr;
  }
  if (name == u"IoCsqInsertIrp") return reinterpret_cast<PVOID>(&IoCsqInsertIrp_stub);
  if (name == u"IoCsqRemoveIrp") return reinterpret_cast<PVOID>(&IoCsqRemoveIrp_stub);
  if (name == u"IoCsqRemoveNextIrp") return reinterpret_cast<PVOID>(&IoCsqRemoveNextIrp_stub);
  return nullptr;
}

}  // namespace

ULONG RtlLengthRequiredSid(ULONG sub_authority_count) { return 8 + 4 * sub_authority_count; }

ULONG RtlLengthSid(PSID sid) { return sid->length; }

NTSTATUS RtlInitializeSid(PSID sid, PSID_IDENTIFIER_AUTHORITY authority, UCHAR sub_authority_count) {
  if (sub_authority_count > 15) return STATUS_INVALID_PARAMETER;
  sid->bytes[0] = 1;  // SID_REVISION
  sid->bytes[1] = sub_authority_count;
  std::memcpy(sid->bytes + 2, authority->Value, 6);
  sid->length = RtlLengthRequiredSid(sub_authority_count);
  return STATUS_SUCCESS;
}

NTSTATUS RtlCreateSecurityDescriptor(PSECURITY_DESCRIPTOR descriptor, ULONG revision) {
  *static_cast<SECURITY_DESCRIPTOR*>(descriptor) =
      SECURITY_DESCRIPTOR{static_cast<UCHAR>(revision), 0, 0, nullptr, nullptr, nullptr, nullptr};
  return STATUS_SUCCESS;
}

NTSTATUS RtlCreateAcl(PACL acl, ULONG size, ULONG revision) {
  if (size < sizeof(ACL)) return STATUS_BUFFER_TOO_SMALL;
  *acl = ACL{static_cast<UCHAR>(revision), 0, static_cast<USHORT>(size), 0, 0};
  return STATUS_SUCCESS;
}

NTSTATUS RtlAddAccessAllowedAce(PACL acl, ULONG, ACCESS_MASK mask, PSID sid) {
  // Walk the existing ACEs to the free space; refuse to write past AclSize, as the kernel does.
  auto* base = reinterpret_cast<UCHAR*>(acl);
  std::size_t at = sizeof(ACL);
  for (USHORT i = 0; i < acl->AceCount; ++i) at += reinterpret_cast<ACE_HEADER*>(base + at)->AceSize;
  std::size_t ace_size = sizeof(ACCESS_ALLOWED_ACE) - sizeof(ULONG) + sid->length;
  if (at + ace_size > acl->AclSize) return STATUS_ALLOTTED_SPACE_EXCEEDED;
  auto* ace = reinterpret_cast<ACCESS_ALLOWED_ACE*>(base + at);
  ace->Header = ACE_HEADER{0, 0, static_cast<USHORT>(ace_size)};
  ace->Mask = mask;
  std::memcpy(&ace->SidStart, sid->bytes, sid->length);
  acl->AceCount++;
  return STATUS_SUCCESS;
}

NTSTATUS RtlSetDaclSecurityDescriptor(PSECURITY_DESCRIPTOR descriptor, BOOLEAN present, PACL dacl, BOOLEAN) {
  auto* sd = static_cast<SECURITY_DESCRIPTOR*>(descriptor);
  sd->Dacl = present ? dacl : nullptr;
  sd->Control = static_cast<SECURITY_DESCRIPTOR_CONTROL>(present ? sd->Control | SE_DACL_PRESENT
                                                                 : sd->Control & ~SE_DACL_PRESENT);
  return STATUS_SUCCESS;
}

NTSTATUS ObOpenObjectByPointer(PVOID object, ULONG, PVOID, ACCESS_MASK, PVOID, KPROCESSOR_MODE, HANDLE* handle) {
  if (current_irql != PASSIVE_LEVEL) irql_violation();
  // A token's test may refuse the open (the driver then reads nothing of it).
  if (kemu::internal::token_open_refused(object)) return STATUS_ACCESS_DENIED;
  std::lock_guard lock(kernel().mutex);
  kernel().handles[object]++;
  *handle = object;  // the emulated handle is the object itself
  return STATUS_SUCCESS;
}

NTSTATUS ZwSetSecurityObject(HANDLE handle, ULONG information, PSECURITY_DESCRIPTOR descriptor) {
  auto* sd = static_cast<SECURITY_DESCRIPTOR*>(descriptor);
  if (information != DACL_SECURITY_INFORMATION || (sd->Control & SE_DACL_PRESENT) == 0 || sd->Dacl == nullptr) {
    return STATUS_INVALID_PARAMETER;
  }
  std::vector<kemu::AllowedAce> aces;
  auto* base = reinterpret_cast<UCHAR*>(sd->Dacl);
  std::size_t at = sizeof(ACL);
  for (USHORT i = 0; i < sd->Dacl->AceCount; ++i) {
    auto* ace = reinterpret_cast<ACCESS_ALLOWED_ACE*>(base + at);
    aces.push_back({ace->Mask, sid_string(reinterpret_cast<UCHAR*>(&ace->SidStart))});
    at += ace->Header.AceSize;
  }
  std::lock_guard lock(kernel().mutex);
  kernel().dacls[static_cast<PDEVICE_OBJECT>(handle)] = aces;  // the object keeps a copy
  kernel().dacl_protected[static_cast<PDEVICE_OBJECT>(handle)] = (sd->Control & SE_DACL_PROTECTED) != 0;
  return STATUS_SUCCESS;
}

NTSTATUS ZwClose(HANDLE handle) {
  std::lock_guard lock(kernel().mutex);
  auto it = kernel().handles.find(handle);
  if (it == kernel().handles.end()) {
    kernel().violations.handle_errors++;  // closed twice, or never opened
    return STATUS_INVALID_HANDLE;
  }
  if (--it->second == 0) kernel().handles.erase(it);
  return STATUS_SUCCESS;
}

// Ex and Ex2 keep separate lists in the kernel: a routine is removed only through the one that
// added it.
static NTSTATUS set_notify_routine(PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine, BOOLEAN remove, bool ex2) {
  if (current_irql != PASSIVE_LEVEL) irql_violation();
  // Exclusive: waits for every callback in flight, as the kernel's rundown protection does.
  std::unique_lock lock(kernel().registration);
  if (remove) {
    if (kernel().routine != routine || kernel().routine_ex2 != ex2) return STATUS_PROCEDURE_NOT_FOUND;
    kernel().routine = nullptr;
    kernel().routine_ex2 = false;
    return STATUS_SUCCESS;
  }
  if (kernel().routine != nullptr) return STATUS_INVALID_PARAMETER;
  kernel().routine = routine;
  kernel().routine_ex2 = ex2;
  return STATUS_SUCCESS;
}

NTSTATUS PsSetCreateProcessNotifyRoutineEx(PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine, BOOLEAN remove) {
  return set_notify_routine(routine, remove, false);
}

static NTSTATUS PsSetCreateProcessNotifyRoutineEx2(PSCREATEPROCESSNOTIFYTYPE type, PVOID routine, BOOLEAN remove) {
  if (type != PsCreateProcessNotifySubsystems) return STATUS_INVALID_PARAMETER;
  return set_notify_routine(reinterpret_cast<PCREATE_PROCESS_NOTIFY_ROUTINE_EX>(routine), remove, true);
}

NTSTATUS PsGetProcessExitStatus(PEPROCESS process) { return process->exit_status; }
ULONG PsGetProcessSessionId(PEPROCESS process) { return process->session_id; }
LONGLONG PsGetProcessCreateTimeQuadPart(PEPROCESS process) { return process->create_time; }

NTSTATUS PsLookupProcessByProcessId(HANDLE process_id, PEPROCESS* process) {
  std::lock_guard lock(kernel().mutex);
  auto it = kernel().processes.find(process_id);
  if (it == kernel().processes.end()) return STATUS_INVALID_CID;
  kernel().references[it->second]++;
  *process = it->second;
  return STATUS_SUCCESS;
}

VOID ObDereferenceObject(PVOID object) {
  std::lock_guard lock(kernel().mutex);
  auto it = kernel().references.find(static_cast<PEPROCESS>(object));
  if (it == kernel().references.end() || it->second == 0) {
    kernel().violations.reference_errors++;
    return;
  }
  if (--it->second == 0) kernel().references.erase(it);
}

namespace kemu {

void reset() {
  disarm_overlap();
  Kernel& k = kernel();
  std::lock_guard lock(k.mutex);
  k.allocations.clear();
  k.pool_by_tag.clear();
  k.violations = Violations{};
  k.fail_every = 0;
  k.allocation_counter = 0;
  k.links.clear();
  k.dacls.clear();
  k.references.clear();
  k.handles.clear();
  internal::reset_tokens();
  k.processes.clear();
  k.dacl_protected.clear();
  k.open_files.clear();
  k.precise_time = true;
  k.ex2_available = true;
  k.csq_exports = kemu::CsqExports::windows;
  k.csq_insertions = 0;
  k.precise_queries = 0;
  k.coarse_queries = 0;
  k.processes[pid_handle(4)] = &g_system_process;
}

void add_process(HANDLE pid, PEPROCESS process) {
  std::lock_guard lock(kernel().mutex);
  kernel().processes[pid] = process;
}

void remove_process(HANDLE pid, PEPROCESS process) {
  std::lock_guard lock(kernel().mutex);
  auto it = kernel().processes.find(pid);
  if (it != kernel().processes.end() && it->second == process) kernel().processes.erase(it);
  if (kernel().references.count(process) != 0) kernel().violations.reference_errors++;
  if (internal::token_referenced(&process->token)) kernel().violations.reference_errors++;
}

std::size_t process_references() {
  std::lock_guard lock(kernel().mutex);
  std::size_t n = 0;
  for (const auto& [process, count] : kernel().references) n += static_cast<std::size_t>(count);
  return n;
}

std::size_t open_handles() {
  std::lock_guard lock(kernel().mutex);
  std::size_t n = 0;
  for (const auto& [handle, count] : kernel().handles) n += static_cast<std::size_t>(count);
  return n;
}

namespace internal {
void count_reference_error() {
  std::lock_guard lock(kernel().mutex);
  kernel().violations.reference_errors++;
}
void count_handle_error() {
  std::lock_guard lock(kernel().mutex);
  kernel().violations.handle_errors++;
}
void count_irql_error() { irql_violation(); }
bool handle_open(HANDLE handle) {
  std::lock_guard lock(kernel().mutex);
  return kernel().handles.count(handle) != 0;
}
KIRQL current_irql() { return ::current_irql; }
}  // namespace internal

PoolStats pool_stats(ULONG tag) {
  std::lock_guard lock(kernel().mutex);
  return kernel().pool_by_tag[tag];
}

Violations violations() {
  std::lock_guard lock(kernel().mutex);
  return kernel().violations;
}

void set_pool_failure_every(std::size_t n) {
  std::lock_guard lock(kernel().mutex);
  kernel().fail_every = n;
  kernel().allocation_counter = 0;
}

bool notify_create(PEPROCESS process, HANDLE pid, PS_CREATE_NOTIFY_INFO* info) {
  return call_routine(process, pid, info, info->IsSubsystemProcess != 0);
}
bool notify_exit(PEPROCESS process, HANDLE pid, bool subsystem) {
  return call_routine(process, pid, nullptr, subsystem);
}

std::string notify_registered_with() {
  std::shared_lock lock(kernel().registration);
  if (kernel().routine == nullptr) return {};
  return kernel().routine_ex2 ? "Ex2" : "Ex";
}

void set_notify_ex2_available(bool available) {
  std::lock_guard lock(kernel().mutex);
  kernel().ex2_available = available;
}

bool notify_registered() {
  std::shared_lock lock(kernel().registration);
  return kernel().routine != nullptr;
}

Request* new_read(ULONG output_length, ULONG input_length, ULONG code) {
  auto* r = new Request{};
  r->buffer.assign(std::max(output_length, input_length), 0xCC);  // stale bytes must not leak out
  r->irp.AssociatedIrp.SystemBuffer = r->buffer.empty() ? nullptr : r->buffer.data();
  r->irp.stack.MajorFunction = IRP_MJ_DEVICE_CONTROL;
  r->irp.stack.Parameters.DeviceIoControl.OutputBufferLength = output_length;
  r->irp.stack.Parameters.DeviceIoControl.InputBufferLength = input_length;
  r->irp.stack.Parameters.DeviceIoControl.IoControlCode = code;
  return r;
}

NTSTATUS send(PDRIVER_OBJECT driver, Request* request) {
  request->irp.device = driver->DeviceObject;
  return driver->MajorFunction[request->irp.stack.MajorFunction](driver->DeviceObject, &request->irp);
}

bool wait(Request* request, int timeout_ms) {
  std::unique_lock lock(request->irp.mutex);
  return request->irp.completed.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                         [&] { return request->irp.completions.load() > 0; });
}

void cancel(Request* request) {
  // IoCancelIrp: Cancel set, then the cancel routine taken and called under the cancel spin
  // lock (which the routine releases); none taken, nothing more happens here.
  IRP& irp = request->irp;
  KIRQL irql;
  IoAcquireCancelSpinLock(&irql);
  irp.Cancel.store(TRUE);
  PDRIVER_CANCEL routine = IoSetCancelRoutine(&irp, nullptr);
  if (routine == nullptr) {
    IoReleaseCancelSpinLock(irql);
    return;
  }
  irp.CancelIrql = irql;
  routine(irp.device, &irp);
}

int completions(const Request* request) { return request->irp.completions.load(); }

void set_csq_exports(CsqExports exports) {
  std::lock_guard lock(kernel().mutex);
  kernel().csq_exports = exports;
}

CsqExports csq_exports_from_environment() {
  const char* value = std::getenv("PROCSENTRY_KEMU_CSQ");
  return value != nullptr && std::string(value) == "wine8" ? CsqExports::wine8 : CsqExports::windows;
}

std::size_t csq_insertions() {
  std::lock_guard lock(kernel().mutex);
  return kernel().csq_insertions;
}

void set_precise_time_available(bool available) {
  std::lock_guard lock(kernel().mutex);
  kernel().precise_time = available;
}

TimeQueries time_queries() {
  std::lock_guard lock(kernel().mutex);
  return TimeQueries{kernel().precise_queries, kernel().coarse_queries};
}

namespace {
thread_local ULONG t_processor = 0;
thread_local bool t_processor_set = false;
std::atomic<ULONG> g_next_processor{0};
}  // namespace

void set_current_processor(ULONG cpu) {
  t_processor = cpu;
  t_processor_set = true;
}

ULONG current_processor() {
  if (!t_processor_set) set_current_processor(g_next_processor.fetch_add(1) % 8);
  return t_processor;
}

File::File(std::u16string name_, File* related) : name(std::move(name_)) {
  object.RelatedFileObject = related != nullptr ? &related->object : nullptr;
  object.FileName.Buffer = name.data();
  object.FileName.Length = static_cast<USHORT>(name.size() * 2);
  object.FileName.MaximumLength = object.FileName.Length;
}

namespace {
NTSTATUS send_file_irp(PDRIVER_OBJECT driver, File* file, int major) {
  IRP irp{};
  irp.stack.MajorFunction = static_cast<UCHAR>(major);
  irp.stack.FileObject = &file->object;
  NTSTATUS status = driver->MajorFunction[major](driver->DeviceObject, &irp);
  if (status != STATUS_PENDING && irp.completions.load() != 1) {
    std::lock_guard lock(kernel().mutex);
    kernel().violations.double_completions++;  // returned without completing it once
  }
  return status;
}
}  // namespace

NTSTATUS open(PDRIVER_OBJECT driver, File* file) {
  PDEVICE_OBJECT device = driver->DeviceObject;
  {
    // The IO manager's check for an exclusive device, before the driver sees the open.
    std::lock_guard lock(kernel().mutex);
    if (kernel().exclusive_devices.count(device) != 0 && kernel().open_files.count(device) != 0) {
      return STATUS_ACCESS_DENIED;
    }
    kernel().open_files[device] = &file->object;
  }
  NTSTATUS status = send_file_irp(driver, file, IRP_MJ_CREATE);
  if (!NT_SUCCESS(status)) {
    std::lock_guard lock(kernel().mutex);
    kernel().open_files.erase(device);
  }
  return status;
}

NTSTATUS cleanup(PDRIVER_OBJECT driver, File* file) { return send_file_irp(driver, file, IRP_MJ_CLEANUP); }

NTSTATUS close(PDRIVER_OBJECT driver, File* file) {
  NTSTATUS status = send_file_irp(driver, file, IRP_MJ_CLOSE);
  std::lock_guard lock(kernel().mutex);
  auto it = kernel().open_files.find(driver->DeviceObject);
  if (it != kernel().open_files.end() && it->second == &file->object) kernel().open_files.erase(it);
  return status;
}

std::string device_sddl(PDEVICE_OBJECT device) {
  std::lock_guard lock(kernel().mutex);
  auto aces = kernel().dacls.find(device);
  if (aces == kernel().dacls.end()) return {};
  std::string sddl = kernel().dacl_protected[device] ? "D:P" : "D:";
  for (const AllowedAce& ace : aces->second) {
    std::string rights = ace.mask == GENERIC_ALL ? "GA" : std::to_string(ace.mask);
    std::string sid = ace.sid == "S-1-5-18" ? "SY" : ace.sid == "S-1-5-32-544" ? "BA" : ace.sid;
    sddl += "(A;;" + rights + ";;;" + sid + ")";
  }
  return sddl;
}

void free_request(Request* request) { delete request; }

std::vector<AllowedAce> device_dacl(PDEVICE_OBJECT device) {
  std::lock_guard lock(kernel().mutex);
  return kernel().dacls[device];
}

std::size_t live_devices() {
  std::lock_guard lock(kernel().mutex);
  return kernel().devices.size();
}

std::size_t live_links() {
  std::lock_guard lock(kernel().mutex);
  return kernel().links.size();
}

bool device_is_exclusive(PDEVICE_OBJECT device) {
  std::lock_guard lock(kernel().mutex);
  return kernel().exclusive_devices.count(device) != 0;
}

}  // namespace kemu
