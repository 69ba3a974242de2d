#include "device_security.h"

namespace procsentry::driver {
namespace {

// A well-known SID built in place (S-1-5-rid0[-rid1]) rather than read from SeExports: the
// same SIDs without exported data (Wine's SeExports is an empty stub).
struct NtAuthoritySid {
  union {
    SID sid;          // aligned as a SID
    UCHAR bytes[68];  // SECURITY_MAX_SID_SIZE (winnt.h): 8 + 15 sub-authorities
  } storage;
  PSID sid() { return &storage.sid; }
};

NTSTATUS build_sid(NtAuthoritySid& out, UCHAR count, ULONG rid0, ULONG rid1 = 0) {
  if (count == 0 || count > 2 || RtlLengthRequiredSid(count) > sizeof(out.storage)) return STATUS_INVALID_PARAMETER;
  SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
  NTSTATUS status = RtlInitializeSid(out.sid(), &nt, count);
  if (!NT_SUCCESS(status)) return status;
  *RtlSubAuthoritySid(out.sid(), 0) = rid0;
  if (count == 2) *RtlSubAuthoritySid(out.sid(), 1) = rid1;
  return STATUS_SUCCESS;
}

}  // namespace

NTSTATUS restrict_to_admins(PDEVICE_OBJECT device) {
  NtAuthoritySid system_sid;
  NtAuthoritySid admins_sid;
  NTSTATUS built = build_sid(system_sid, 1, SECURITY_LOCAL_SYSTEM_RID);  // S-1-5-18
  if (NT_SUCCESS(built)) {
    built = build_sid(admins_sid, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS);  // S-1-5-32-544
  }
  if (!NT_SUCCESS(built)) return built;
  PSID system = system_sid.sid();
  PSID admins = admins_sid.sid();
  ULONG acl_size = static_cast<ULONG>(sizeof(ACL) + 2 * (sizeof(ACCESS_ALLOWED_ACE) - sizeof(ULONG))) +
                   RtlLengthSid(system) + RtlLengthSid(admins);
  auto* acl = static_cast<PACL>(ExAllocatePoolWithTag(PagedPool, acl_size, kPoolTag));
  if (acl == nullptr) return STATUS_INSUFFICIENT_RESOURCES;

  SECURITY_DESCRIPTOR descriptor;
  NTSTATUS status = RtlCreateSecurityDescriptor(&descriptor, SECURITY_DESCRIPTOR_REVISION);
  if (NT_SUCCESS(status)) status = RtlCreateAcl(acl, acl_size, ACL_REVISION);
  if (NT_SUCCESS(status)) status = RtlAddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, system);
  if (NT_SUCCESS(status)) status = RtlAddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, admins);
  if (NT_SUCCESS(status)) status = RtlSetDaclSecurityDescriptor(&descriptor, TRUE, acl, FALSE);
  // D:P: the DACL takes no inherited ACE (what SetSecurityInfo's PROTECTED_DACL_SECURITY_INFORMATION
  // sets in user mode; RtlSetControlSecurityDescriptor is not a kernel export).
  if (NT_SUCCESS(status)) descriptor.Control |= SE_DACL_PROTECTED;
  HANDLE handle = nullptr;
  if (NT_SUCCESS(status)) {
    status = ObOpenObjectByPointer(device, OBJ_KERNEL_HANDLE, nullptr, WRITE_DAC, nullptr, KernelMode, &handle);
  }
  if (NT_SUCCESS(status)) {
    status = ZwSetSecurityObject(handle, DACL_SECURITY_INFORMATION, &descriptor);
    ZwClose(handle);
  }
  ExFreePoolWithTag(acl, kPoolTag);  // the object manager keeps its own copy
  return status;
}

}  // namespace procsentry::driver
