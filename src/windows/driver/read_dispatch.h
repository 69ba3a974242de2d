// The client's side: IRP dispatch, the cancel-safe queue of pended reads (inverted call),
// and delivery of queued records into them.
#pragma once

#include "device_context.h"

namespace procsentry::driver {

NTSTATUS init_read_queue(DeviceContext& context);
// Pairs queued records with pended reads until one side is empty; nothing while no client
// has the device open. Safe from any thread at IRQL <= DISPATCH_LEVEL.
void deliver_pending_reads(DeviceContext& context);
// Completes every pended read with STATUS_CANCELLED (cleanup, unload).
void cancel_pending_reads(DeviceContext& context);

NTSTATUS dispatch_create(PDEVICE_OBJECT device, PIRP irp);
NTSTATUS dispatch_close(PDEVICE_OBJECT device, PIRP irp);
NTSTATUS dispatch_cleanup(PDEVICE_OBJECT device, PIRP irp);
NTSTATUS dispatch_device_control(PDEVICE_OBJECT device, PIRP irp);

}  // namespace procsentry::driver
