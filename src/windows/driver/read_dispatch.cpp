#include "read_dispatch.h"

namespace procsentry::driver {
namespace {

NTSTATUS complete(PIRP irp, NTSTATUS status, ULONG_PTR information) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

ULONG output_length(PIRP irp) {
  return IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.OutputBufferLength;
}

// Callbacks and readers both call this after adding their half; each side re-checks the
// other, so a record and a read can never both wait for each other (no lost wakeup).
void deliver(DeviceContext& context) {
  while (context.queue.has_data()) {
    PIRP irp = context.reads.remove_next();
    if (irp == nullptr) return;
    auto* buffer = static_cast<UCHAR*>(irp->AssociatedIrp.SystemBuffer);
    ULONG written = context.queue.drain_into(buffer, output_length(irp));
    if (written == 0) {
      // Another thread took the records between the check and the drain: re-pend (or, once
      // cleanup closed the queue, completed as cancelled).
      context.reads.insert(irp);
      continue;
    }
    complete(irp, STATUS_SUCCESS, written);
  }
}

// The handshake: the driver answers its own wire version whatever the client's (so that the
// client can name both in its line), and reads on this open work only if they matched: a
// client of another version, or one older than the handshake, gets no records it would
// misread.
NTSTATUS answer_version(DeviceContext& context, PIRP irp) {
  const auto& io = IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl;
  if (io.InputBufferLength != sizeof(ps_device_version)) return complete(irp, STATUS_INVALID_PARAMETER, 0);
  if (io.OutputBufferLength < sizeof(ps_device_version) || irp->AssociatedIrp.SystemBuffer == nullptr) {
    return complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
  }
  // METHOD_BUFFERED: input and output share SystemBuffer; the question is read before the
  // answer overwrites it, and every output byte is written.
  auto* buffer = static_cast<ps_device_version*>(irp->AssociatedIrp.SystemBuffer);
  const bool agreed = buffer->wire_version == PS_WIRE_VERSION;
  buffer->wire_version = PS_WIRE_VERSION;
  buffer->reserved = 0;
  InterlockedExchange(&context.client_agreed, agreed ? 1 : 0);
  return complete(irp, STATUS_SUCCESS, sizeof(ps_device_version));
}

bool client_agreed(DeviceContext& context) { return InterlockedCompareExchange(&context.client_agreed, 0, 0) != 0; }

}  // namespace

NTSTATUS init_read_queue(DeviceContext& context) { return context.reads.init(); }

void deliver_pending_reads(DeviceContext& context) { deliver(context); }

void cancel_pending_reads(DeviceContext& context) { context.reads.close(); }

NTSTATUS dispatch_create(PDEVICE_OBJECT device, PIRP irp) {
  // \\.\procsentry only: \\.\procsentry\anything (or an open relative to it) names nothing.
  PFILE_OBJECT file = IoGetCurrentIrpStackLocation(irp)->FileObject;
  if (file != nullptr && (file->FileName.Length != 0 || file->RelatedFileObject != nullptr)) {
    return complete(irp, STATUS_OBJECT_PATH_NOT_FOUND, 0);
  }
  // Exclusive device: the previous file object is closed, its cleanup closed the reads.
  auto* context = static_cast<DeviceContext*>(device->DeviceExtension);
  InterlockedExchange(&context->client_agreed, 0);  // this client has not said its version yet
  context->reads.open();
  return complete(irp, STATUS_SUCCESS, 0);
}

NTSTATUS dispatch_close(PDEVICE_OBJECT, PIRP irp) { return complete(irp, STATUS_SUCCESS, 0); }

NTSTATUS dispatch_cleanup(PDEVICE_OBJECT device, PIRP irp) {
  // Nothing pends from here to the next open (a read or a delivery racing this completes its
  // read as cancelled), and what pends is cancelled.
  static_cast<DeviceContext*>(device->DeviceExtension)->reads.close();
  return complete(irp, STATUS_SUCCESS, 0);
}

NTSTATUS dispatch_device_control(PDEVICE_OBJECT device, PIRP irp) {
  DeviceContext& context = *static_cast<DeviceContext*>(device->DeviceExtension);
  PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(irp);
  const auto& io = stack->Parameters.DeviceIoControl;
  if (io.IoControlCode == PS_IOCTL_VERSION) return answer_version(context, irp);
  if (io.IoControlCode != PS_IOCTL_READ) return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
  if (io.InputBufferLength != 0) return complete(irp, STATUS_INVALID_PARAMETER, 0);
  if (io.OutputBufferLength < PS_WINDOWS_READ_MIN || irp->AssociatedIrp.SystemBuffer == nullptr) {
    return complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
  }
  if (!context.reads.is_open()) return complete(irp, STATUS_DELETE_PENDING, 0);  // after cleanup
  if (!client_agreed(context)) return complete(irp, STATUS_REVISION_MISMATCH, 0);
  ULONG written = context.queue.drain_into(static_cast<UCHAR*>(irp->AssociatedIrp.SystemBuffer), io.OutputBufferLength);
  if (written != 0) return complete(irp, STATUS_SUCCESS, written);
  context.reads.insert(irp);  // pends it (or completes it, if cleanup came in between)
  deliver(context);           // a record may have arrived before the read was queued
  return STATUS_PENDING;
}

}  // namespace procsentry::driver
