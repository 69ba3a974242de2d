// DriverEntry and DriverUnload: register, create the device, and leave nothing behind.
#include "device_security.h"
#include "notify_registration.h"
#include "process_notify.h"
#include "read_dispatch.h"
#include "system_time.h"

namespace procsentry::driver {

DeviceContext* g_context = nullptr;

namespace {

void notify_trampoline(PEPROCESS process, HANDLE process_id, PPS_CREATE_NOTIFY_INFO create_info) {
  on_process_notify(process, process_id, create_info);
}

// Undoes whatever DriverEntry got to, in reverse order. After the notify routine's removal
// returns no callback is running or will run, so the queue can be emptied.
void tear_down(PDRIVER_OBJECT driver) {
  PDEVICE_OBJECT device = driver->DeviceObject;
  if (device == nullptr) return;
  auto* context = static_cast<DeviceContext*>(device->DeviceExtension);
  if (context->notify_registered) {
    unregister_process_notify(notify_trampoline);
    context->notify_registered = FALSE;
  }
  g_context = nullptr;
  cancel_pending_reads(*context);
  context->queue.free_all();
  if (context->link_created) {
    UNICODE_STRING link;
    RtlInitUnicodeString(&link, PS_DEVICE_LINK);
    IoDeleteSymbolicLink(&link);
  }
  IoDeleteDevice(device);
}

VOID driver_unload(PDRIVER_OBJECT driver) { tear_down(driver); }

}  // namespace
}  // namespace procsentry::driver

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING) {
  using namespace procsentry::driver;
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, PS_DEVICE_NAME);
  PDEVICE_OBJECT device = nullptr;
  // Exclusive: one client at a time.
  NTSTATUS status =
      IoCreateDevice(driver, sizeof(DeviceContext), &name, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, TRUE, &device);
  if (!NT_SUCCESS(status)) return status;
  auto* context = static_cast<DeviceContext*>(device->DeviceExtension);
  RtlZeroMemory(context, sizeof(*context));
  context->device = device;
  context->queue.init(kMaxQueuedRecords, kMaxQueuedBytes);
  driver->DriverUnload = driver_unload;
  driver->MajorFunction[IRP_MJ_CREATE] = dispatch_create;
  driver->MajorFunction[IRP_MJ_CLOSE] = dispatch_close;
  driver->MajorFunction[IRP_MJ_CLEANUP] = dispatch_cleanup;
  driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch_device_control;

  resolve_system_time();
  status = init_read_queue(*context);
  if (NT_SUCCESS(status)) status = restrict_to_admins(device);
  if (NT_SUCCESS(status)) {
    UNICODE_STRING link;
    RtlInitUnicodeString(&link, PS_DEVICE_LINK);
    status = IoCreateSymbolicLink(&link, &name);
    context->link_created = NT_SUCCESS(status);
  }
  if (NT_SUCCESS(status)) {
    g_context = context;
    status = register_process_notify(notify_trampoline);
    context->notify_registered = NT_SUCCESS(status);
  }
  if (!NT_SUCCESS(status)) {
    tear_down(driver);
    return status;
  }
  device->Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}
