// User-mode emulation of exactly the Windows kernel APIs procsentry's driver calls, so the
// driver's own sources run on Linux under ThreadSanitizer and AddressSanitizer. Names and
// signatures follow the DDK; behaviour follows the documented contracts, plus checks the
// real kernel leaves to Driver Verifier: per-tag pool accounting, double frees, frees with
// the wrong tag, IRQL rules, IRPs completed twice, and callback rundown on unregistration.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "kernel_emulation/schedule.h"

using VOID = void;
using PVOID = void*;
using UCHAR = unsigned char;
using PUCHAR = UCHAR*;
using USHORT = std::uint16_t;
using ULONG = std::uint32_t;
using PULONG = ULONG*;
using LONG = std::int32_t;
using LONGLONG = std::int64_t;
using ULONG64 = std::uint64_t;
using ULONG_PTR = std::uintptr_t;
using SIZE_T = std::size_t;
using BOOLEAN = UCHAR;
using NTSTATUS = LONG;
using HANDLE = void*;
using KIRQL = UCHAR;
using PKIRQL = KIRQL*;
using ACCESS_MASK = ULONG;
using UINT8 = std::uint8_t;
using UINT16 = std::uint16_t;
using UINT32 = std::uint32_t;
using INT32 = std::int32_t;
using UINT64 = std::uint64_t;
using WCHAR = char16_t;
using PCWSTR = const wchar_t*;  // L"" literals; converted to UTF-16 by RtlInitUnicodeString

#define TRUE 1
#define FALSE 0
#define NTAPI
#define NT_SUCCESS(status) ((static_cast<NTSTATUS>(status)) >= 0)
constexpr NTSTATUS STATUS_SUCCESS = 0;
constexpr NTSTATUS STATUS_PENDING = 0x103;
constexpr NTSTATUS STATUS_CANCELLED = static_cast<NTSTATUS>(0xC0000120);
constexpr NTSTATUS STATUS_INVALID_DEVICE_REQUEST = static_cast<NTSTATUS>(0xC0000010);
constexpr NTSTATUS STATUS_INVALID_PARAMETER = static_cast<NTSTATUS>(0xC000000D);
constexpr NTSTATUS STATUS_BUFFER_TOO_SMALL = static_cast<NTSTATUS>(0xC0000023);
constexpr NTSTATUS STATUS_INSUFFICIENT_RESOURCES = static_cast<NTSTATUS>(0xC000009A);
constexpr NTSTATUS STATUS_OBJECT_NAME_COLLISION = static_cast<NTSTATUS>(0xC0000035);
constexpr NTSTATUS STATUS_PROCEDURE_NOT_FOUND = static_cast<NTSTATUS>(0xC000007A);
constexpr NTSTATUS STATUS_ALLOTTED_SPACE_EXCEEDED = static_cast<NTSTATUS>(0xC0000099);
constexpr NTSTATUS STATUS_OBJECT_PATH_NOT_FOUND = static_cast<NTSTATUS>(0xC000003A);
constexpr NTSTATUS STATUS_DELETE_PENDING = static_cast<NTSTATUS>(0xC0000056);
constexpr NTSTATUS STATUS_ACCESS_DENIED = static_cast<NTSTATUS>(0xC0000022);
constexpr NTSTATUS STATUS_INVALID_HANDLE = static_cast<NTSTATUS>(0xC0000008);
constexpr NTSTATUS STATUS_INVALID_INFO_CLASS = static_cast<NTSTATUS>(0xC0000003);
constexpr NTSTATUS STATUS_REVISION_MISMATCH = static_cast<NTSTATUS>(0xC0000059);

constexpr KIRQL PASSIVE_LEVEL = 0;
constexpr KIRQL DISPATCH_LEVEL = 2;

#define FIELD_OFFSET(type, field) (offsetof(type, field))
#define CONTAINING_RECORD(address, type, field) \
  (reinterpret_cast<type*>(reinterpret_cast<char*>(address) - offsetof(type, field)))
// Full barriers, as the kernel's.
inline LONG InterlockedExchange(volatile LONG* target, LONG value) {
  return __atomic_exchange_n(target, value, __ATOMIC_SEQ_CST);
}
inline LONG InterlockedCompareExchange(volatile LONG* target, LONG exchange, LONG comparand) {
  __atomic_compare_exchange_n(target, &comparand, exchange, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return comparand;
}
inline void RtlZeroMemory(void* destination, SIZE_T bytes) { std::memset(destination, 0, bytes); }
inline void RtlCopyMemory(void* destination, const void* source, SIZE_T bytes) {
  kemu::schedule_point(kemu::Point::copy_memory);
  std::memcpy(destination, source, bytes);
}

// The real kernel stops here with a blue screen; the emulation prints the bug check and aborts.
[[noreturn]] void KeBugCheckEx(ULONG code, ULONG_PTR parameter1, const char* what);
constexpr ULONG KERNEL_SECURITY_CHECK_FAILURE = 0x139;
constexpr ULONG_PTR FAST_FAIL_CORRUPT_LIST_ENTRY = 3;

struct LIST_ENTRY {
  LIST_ENTRY* Flink;
  LIST_ENTRY* Blink;
};
using PLIST_ENTRY = LIST_ENTRY*;
inline void InitializeListHead(PLIST_ENTRY head) { head->Flink = head->Blink = head; }
inline bool IsListEmpty(const LIST_ENTRY* head) { return head->Flink == head; }
// The list operations check their neighbours as wdm.h's do since Windows 8 (RtlFailFast with
// FAST_FAIL_CORRUPT_LIST_ENTRY): an entry linked twice or freed while linked is a bug check.
inline void InsertTailList(PLIST_ENTRY head, PLIST_ENTRY entry) {
  PLIST_ENTRY previous = head->Blink;
  if (previous->Flink != head) {
    KeBugCheckEx(KERNEL_SECURITY_CHECK_FAILURE, FAST_FAIL_CORRUPT_LIST_ENTRY, "corrupt LIST_ENTRY in InsertTailList");
  }
  entry->Flink = head;
  entry->Blink = previous;
  previous->Flink = entry;
  head->Blink = entry;
}
inline BOOLEAN RemoveEntryList(PLIST_ENTRY entry) {
  PLIST_ENTRY next = entry->Flink;
  PLIST_ENTRY previous = entry->Blink;
  if (next->Blink != entry || previous->Flink != entry) {
    KeBugCheckEx(KERNEL_SECURITY_CHECK_FAILURE, FAST_FAIL_CORRUPT_LIST_ENTRY, "corrupt LIST_ENTRY in RemoveEntryList");
  }
  previous->Flink = next;
  next->Blink = previous;
  return next == previous;
}
inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY head) {
  PLIST_ENTRY entry = head->Flink;
  PLIST_ENTRY next = entry->Flink;
  if (entry->Blink != head || next->Blink != entry) {
    KeBugCheckEx(KERNEL_SECURITY_CHECK_FAILURE, FAST_FAIL_CORRUPT_LIST_ENTRY, "corrupt LIST_ENTRY in RemoveHeadList");
  }
  head->Flink = next;
  next->Blink = head;
  return entry;
}

union LARGE_INTEGER {
  LONGLONG QuadPart;
};
using PLARGE_INTEGER = LARGE_INTEGER*;

struct UNICODE_STRING {
  USHORT Length;  // bytes
  USHORT MaximumLength;
  WCHAR* Buffer;
};
using PUNICODE_STRING = UNICODE_STRING*;
using PCUNICODE_STRING = const UNICODE_STRING*;

struct CLIENT_ID {
  HANDLE UniqueProcess;
  HANDLE UniqueThread;
};

struct _EPROCESS;  // defined by the emulation
using PEPROCESS = _EPROCESS*;
// The fields of a FILE_OBJECT the driver reads in IRP_MJ_CREATE.
struct _FILE_OBJECT {
  _FILE_OBJECT* RelatedFileObject;
  UNICODE_STRING FileName;  // what followed the device's name in the open: \\.\procsentry\<this>
};
using PFILE_OBJECT = _FILE_OBJECT*;

struct PS_CREATE_NOTIFY_INFO {
  SIZE_T Size;
  union {
    ULONG Flags;
    __extension__ struct {  // anonymous, as in the DDK
      ULONG FileOpenNameAvailable : 1;
      ULONG IsSubsystemProcess : 1;
      ULONG Reserved : 30;
    };
  };
  HANDLE ParentProcessId;
  CLIENT_ID CreatingThreadId;
  PFILE_OBJECT FileObject;
  PCUNICODE_STRING ImageFileName;
  PCUNICODE_STRING CommandLine;
  NTSTATUS CreationStatus;
};
using PPS_CREATE_NOTIFY_INFO = PS_CREATE_NOTIFY_INFO*;
using PCREATE_PROCESS_NOTIFY_ROUTINE_EX = void (*)(PEPROCESS, HANDLE, PPS_CREATE_NOTIFY_INFO);

// Spin lock: a plain word taken with atomic builtins (acquire/release), which ThreadSanitizer
// understands. Zero is unlocked, as for the real KSPIN_LOCK.
using KSPIN_LOCK = ULONG_PTR;
using PKSPIN_LOCK = KSPIN_LOCK*;

enum POOL_TYPE { NonPagedPool = 0, PagedPool = 1, NonPagedPoolNx = 512 };

struct IO_STATUS_BLOCK {
  NTSTATUS Status;
  ULONG_PTR Information;
};

struct IO_STACK_LOCATION {
  UCHAR MajorFunction;
  union {
    struct {
      ULONG OutputBufferLength;
      ULONG InputBufferLength;
      ULONG IoControlCode;
      PVOID Type3InputBuffer;
    } DeviceIoControl;
  } Parameters;
  PFILE_OBJECT FileObject;
};
using PIO_STACK_LOCATION = IO_STACK_LOCATION*;

struct DEVICE_OBJECT;
struct IRP;
using PDRIVER_CANCEL = VOID (*)(DEVICE_OBJECT*, IRP*);
struct IRP {
  IO_STATUS_BLOCK IoStatus;
  union {
    PVOID SystemBuffer;
  } AssociatedIrp;
  struct {
    struct {
      PVOID DriverContext[4];  // the driver's while it holds the IRP (IoCsq uses [3])
      LIST_ENTRY ListEntry;
    } Overlay;
  } Tail;
  std::atomic<BOOLEAN> Cancel;   // set by IoCancelIrp on another thread (volatile in the kernel)
  KIRQL CancelIrql;              // the IRQL the cancel routine restores with IoReleaseCancelSpinLock
  PDRIVER_CANCEL CancelRoutine;  // only through IoSetCancelRoutine (an interlocked exchange)
  BOOLEAN PendingReturned;
  // Emulation only: the stack location, the device it was sent to, completion signalling.
  IO_STACK_LOCATION stack;
  DEVICE_OBJECT* device;
  std::atomic<int> completions;
  std::mutex mutex;
  std::condition_variable completed;
};
using PIRP = IRP*;
inline PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(PIRP irp) { return &irp->stack; }
constexpr char IO_NO_INCREMENT = 0;
void IoCompleteRequest(PIRP irp, char priority_boost);
inline PDRIVER_CANCEL IoSetCancelRoutine(PIRP irp, PDRIVER_CANCEL routine) {
  return __atomic_exchange_n(&irp->CancelRoutine, routine, __ATOMIC_SEQ_CST);
}
// The cancel spin lock: IoCancelIrp holds it while it takes the cancel routine and calls it;
// the routine releases it first thing.
VOID IoAcquireCancelSpinLock(PKIRQL irql);
VOID IoReleaseCancelSpinLock(KIRQL irql);
inline void IoMarkIrpPending(PIRP irp) {
  kemu::schedule_point(kemu::Point::read_pend);
  irp->PendingReturned = TRUE;
}

struct DEVICE_OBJECT;
struct DRIVER_OBJECT;
using PDEVICE_OBJECT = DEVICE_OBJECT*;
using PDRIVER_OBJECT = DRIVER_OBJECT*;
using PDRIVER_DISPATCH = NTSTATUS (*)(PDEVICE_OBJECT, PIRP);
using PDRIVER_UNLOAD = VOID (*)(PDRIVER_OBJECT);
constexpr int IRP_MJ_CREATE = 0x00;
constexpr int IRP_MJ_CLOSE = 0x02;
constexpr int IRP_MJ_DEVICE_CONTROL = 0x0e;
constexpr int IRP_MJ_CLEANUP = 0x12;
constexpr int IRP_MJ_MAXIMUM_FUNCTION = 0x1b;
constexpr ULONG FILE_DEVICE_UNKNOWN = 0x22;
constexpr ULONG FILE_DEVICE_SECURE_OPEN = 0x100;
constexpr ULONG DO_DEVICE_INITIALIZING = 0x80;

struct DEVICE_OBJECT {
  PDRIVER_OBJECT DriverObject;
  PVOID DeviceExtension;
  ULONG Flags;
};
struct DRIVER_OBJECT {
  PDEVICE_OBJECT DeviceObject;
  PDRIVER_UNLOAD DriverUnload;
  PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
};

// Cancel-safe IRP queue: the types only. The driver finds the routines with
// MmGetSystemRoutineAddress (kemu::set_csq_exports says which the emulated kernel has).
struct _IO_CSQ;
using PIO_CSQ = _IO_CSQ*;
using PIO_CSQ_INSERT_IRP_EX = NTSTATUS (*)(PIO_CSQ, PIRP, PVOID);
using PIO_CSQ_REMOVE_IRP = VOID (*)(PIO_CSQ, PIRP);
using PIO_CSQ_PEEK_NEXT_IRP = PIRP (*)(PIO_CSQ, PIRP, PVOID);
using PIO_CSQ_ACQUIRE_LOCK = VOID (*)(PIO_CSQ, PKIRQL);
using PIO_CSQ_RELEASE_LOCK = VOID (*)(PIO_CSQ, KIRQL);
using PIO_CSQ_COMPLETE_CANCELED_IRP = VOID (*)(PIO_CSQ, PIRP);
struct _IO_CSQ {
  PIO_CSQ_INSERT_IRP_EX insert;
  PIO_CSQ_REMOVE_IRP remove;
  PIO_CSQ_PEEK_NEXT_IRP peek;
  PIO_CSQ_ACQUIRE_LOCK acquire;
  PIO_CSQ_RELEASE_LOCK release;
  PIO_CSQ_COMPLETE_CANCELED_IRP complete_canceled;
};
using IO_CSQ = _IO_CSQ;
struct IO_CSQ_IRP_CONTEXT {
  ULONG Type;
  PIRP Irp;
  PIO_CSQ Csq;
};
using PIO_CSQ_IRP_CONTEXT = IO_CSQ_IRP_CONTEXT*;

// Security: just enough of SIDs, ACLs and descriptors for the device's DACL.
struct SID {
  UCHAR bytes[68];  // the binary form (SECURITY_MAX_SID_SIZE), what a real PSID points at
  ULONG length;
};
using PSID = SID*;
struct SID_IDENTIFIER_AUTHORITY {
  UCHAR Value[6];
};
using PSID_IDENTIFIER_AUTHORITY = SID_IDENTIFIER_AUTHORITY*;
#define SECURITY_NT_AUTHORITY \
  { 0, 0, 0, 0, 0, 5 }
constexpr ULONG SECURITY_LOCAL_SYSTEM_RID = 0x12;
constexpr ULONG SECURITY_BUILTIN_DOMAIN_RID = 0x20;
constexpr ULONG DOMAIN_ALIAS_RID_ADMINS = 0x220;
ULONG RtlLengthRequiredSid(ULONG sub_authority_count);
NTSTATUS RtlInitializeSid(PSID sid, PSID_IDENTIFIER_AUTHORITY authority, UCHAR sub_authority_count);
struct ACL {
  UCHAR AclRevision;
  UCHAR Sbz1;
  USHORT AclSize;
  USHORT AceCount;
  USHORT Sbz2;
};
using PACL = ACL*;
struct ACE_HEADER {
  UCHAR AceType;
  UCHAR AceFlags;
  USHORT AceSize;
};
struct ACCESS_ALLOWED_ACE {
  ACE_HEADER Header;
  ACCESS_MASK Mask;
  ULONG SidStart;
};
using SECURITY_DESCRIPTOR_CONTROL = USHORT;
constexpr SECURITY_DESCRIPTOR_CONTROL SE_DACL_PRESENT = 0x0004;
constexpr SECURITY_DESCRIPTOR_CONTROL SE_DACL_PROTECTED = 0x1000;
struct SECURITY_DESCRIPTOR {  // absolute form, as in ntifs.h
  UCHAR Revision;
  UCHAR Sbz1;
  SECURITY_DESCRIPTOR_CONTROL Control;
  PSID Owner;
  PSID Group;
  PACL Sacl;
  PACL Dacl;
};
using PSECURITY_DESCRIPTOR = PVOID;
constexpr ULONG SECURITY_DESCRIPTOR_REVISION = 1;
constexpr ULONG ACL_REVISION = 2;
constexpr ACCESS_MASK GENERIC_ALL = 0x10000000;
constexpr ACCESS_MASK WRITE_DAC = 0x00040000;
constexpr ULONG OBJ_KERNEL_HANDLE = 0x200;
constexpr ULONG DACL_SECURITY_INFORMATION = 0x4;
enum KPROCESSOR_MODE { KernelMode = 0, UserMode = 1 };

ULONG RtlLengthSid(PSID sid);
NTSTATUS RtlCreateSecurityDescriptor(PSECURITY_DESCRIPTOR descriptor, ULONG revision);
NTSTATUS RtlCreateAcl(PACL acl, ULONG size, ULONG revision);
NTSTATUS RtlAddAccessAllowedAce(PACL acl, ULONG revision, ACCESS_MASK mask, PSID sid);
NTSTATUS RtlSetDaclSecurityDescriptor(PSECURITY_DESCRIPTOR descriptor, BOOLEAN present, PACL dacl, BOOLEAN defaulted);
NTSTATUS ObOpenObjectByPointer(PVOID object, ULONG attributes, PVOID access_state, ACCESS_MASK access, PVOID type,
                               KPROCESSOR_MODE mode, HANDLE* handle);
NTSTATUS ZwSetSecurityObject(HANDLE handle, ULONG information, PSECURITY_DESCRIPTOR descriptor);
NTSTATUS ZwClose(HANDLE handle);

PVOID ExAllocatePoolWithTag(POOL_TYPE pool, SIZE_T bytes, ULONG tag);
VOID ExFreePoolWithTag(PVOID p, ULONG tag);
VOID KeInitializeSpinLock(PKSPIN_LOCK lock);
VOID KeAcquireSpinLock(PKSPIN_LOCK lock, PKIRQL old_irql);
VOID KeReleaseSpinLock(PKSPIN_LOCK lock, KIRQL new_irql);
// The clock tick (15.625 ms steps, as the real one's default): only KeQuerySystemTimePrecise,
// found through MmGetSystemRoutineAddress when the emulated kernel has it, is finer.
VOID KeQuerySystemTime(LARGE_INTEGER* time);
PVOID MmGetSystemRoutineAddress(PUNICODE_STRING name);
struct PROCESSOR_NUMBER {
  USHORT Group;
  UCHAR Number;
  UCHAR Reserved;
};
using PPROCESSOR_NUMBER = PROCESSOR_NUMBER*;
ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER number);

VOID RtlInitUnicodeString(PUNICODE_STRING destination, PCWSTR source);
NTSTATUS IoCreateDevice(PDRIVER_OBJECT driver, ULONG extension_size, PUNICODE_STRING name, ULONG type,
                        ULONG characteristics, BOOLEAN exclusive, PDEVICE_OBJECT* device);
VOID IoDeleteDevice(PDEVICE_OBJECT device);
NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING link, PUNICODE_STRING target);
NTSTATUS IoDeleteSymbolicLink(PUNICODE_STRING link);
NTSTATUS PsSetCreateProcessNotifyRoutineEx(PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine, BOOLEAN remove);
// PsSetCreateProcessNotifyRoutineEx2 (Windows 10 1703+) is no export of the emulation either:
// MmGetSystemRoutineAddress finds it when the emulated kernel has it (kemu::set_notify_ex2_available).
enum PSCREATEPROCESSNOTIFYTYPE { PsCreateProcessNotifySubsystems = 0 };
NTSTATUS PsGetProcessExitStatus(PEPROCESS process);
ULONG PsGetProcessSessionId(PEPROCESS process);
LONGLONG PsGetProcessCreateTimeQuadPart(PEPROCESS process);
constexpr NTSTATUS STATUS_INVALID_CID = static_cast<NTSTATUS>(0xC000000B);
// Takes a reference on the process object: each success needs one ObDereferenceObject.
NTSTATUS PsLookupProcessByProcessId(HANDLE process_id, PEPROCESS* process);
VOID ObDereferenceObject(PVOID object);

// Access tokens (kernel_emulation/token.cpp): a process's primary token, referenced and
// queried as ntifs.h's routines do. PsReferencePrimaryToken's reference needs one
// PsDereferencePrimaryToken, ObOpenObjectByPointer's handle one ZwClose: the emulation counts
// both, and a release of what was not held is a violation.
using PACCESS_TOKEN = PVOID;
struct LUID {
  ULONG LowPart;
  LONG HighPart;
};
enum TOKEN_TYPE { TokenPrimary = 1, TokenImpersonation = 2 };
enum TOKEN_INFORMATION_CLASS {
  TokenUser = 1,
  TokenStatistics = 10,
  TokenElevationType = 18,
  TokenElevation = 20,
  TokenIntegrityLevel = 25,
};
struct SID_AND_ATTRIBUTES {
  PSID Sid;
  ULONG Attributes;
};
struct TOKEN_USER {
  SID_AND_ATTRIBUTES User;
};
struct TOKEN_MANDATORY_LABEL {
  SID_AND_ATTRIBUTES Label;
};
struct TOKEN_ELEVATION {
  ULONG TokenIsElevated;
};
struct TOKEN_STATISTICS {
  LUID TokenId;
  LUID AuthenticationId;
  LARGE_INTEGER ExpirationTime;
  TOKEN_TYPE TokenType;
  ULONG ImpersonationLevel;
  ULONG DynamicCharged;
  ULONG DynamicAvailable;
  ULONG GroupCount;
  ULONG PrivilegeCount;
  LUID ModifiedId;
};
constexpr ACCESS_MASK TOKEN_QUERY = 0x0008;
PACCESS_TOKEN PsReferencePrimaryToken(PEPROCESS process);
VOID PsDereferencePrimaryToken(PACCESS_TOKEN token);
NTSTATUS ZwQueryInformationToken(HANDLE token, TOKEN_INFORMATION_CLASS what, PVOID buffer, ULONG length,
                                 PULONG returned);
BOOLEAN RtlValidSid(PSID sid);
PUCHAR RtlSubAuthorityCountSid(PSID sid);
PULONG RtlSubAuthoritySid(PSID sid, ULONG index);
