#include "device_security.h"

namespace procsentry::driver {

NTSTATUS restrict_to_admins(PDEVICE_OBJECT device) {
  PSID system = SeExports->SeLocalSystemSid;
  PSID admins = SeExports->SeAliasAdminsSid;
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
