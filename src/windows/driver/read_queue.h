// The pended reads (inverted call), cancel-safe. Through the IO manager's cancel-safe queue
// where the kernel has it, else through the algorithm that queue packages: IoSetCancelRoutine
// under the queue's own lock, as the DDK's cancel sample did before IoCsq. The IoCsq routines
// are resolved by name, the Ex ones included: Wine 8 exports IoCsqInsertIrp and
// IoCsqRemoveNextIrp as stubs that abort when called, and no IoCsqInsertIrpEx, so the Ex
// routines' presence is what tells a kernel that implements the family (every Windows since
// Server 2003). One binary for both.
// The queue is closed from cleanup to the next open (as the cancel sample's FileRundownLock,
// kept under the queue's own lock: Wine 8's Ex*RundownProtection are stubs too), so no read
// stays pended after cleanup.
#pragma once

#include "kernel.h"

namespace procsentry::driver {

class ReadQueue {
 public:
  // PASSIVE_LEVEL (DriverEntry): resolves the IoCsq routines once. Created closed.
  NTSTATUS init();
  // IRP_MJ_CREATE: reads queue again.
  void open();
  // IRP_MJ_CLEANUP, unload: nothing queues until open(); what is queued completes as cancelled.
  void close();
  bool is_open();
  // Marks the read pending and queues it; one cancelled before it could be queued, or arriving
  // while the queue is closed, is completed as cancelled. IRQL <= DISPATCH_LEVEL.
  void insert(PIRP irp);
  // The oldest queued read, off the queue and no longer cancellable (the caller completes it);
  // nullptr when none is left. A read whose cancellation began is left to its cancel routine.
  PIRP remove_next();
  bool uses_io_csq() const { return csq_insert_ != nullptr; }

 private:
  using CsqInsertIrpEx = NTSTATUS(NTAPI*)(PIO_CSQ, PIRP, PIO_CSQ_IRP_CONTEXT, PVOID);
  using CsqRemoveNextIrp = PIRP(NTAPI*)(PIO_CSQ, PVOID);

  static ReadQueue& of(PIO_CSQ csq);
  static NTSTATUS NTAPI csq_insert(PIO_CSQ csq, PIRP irp, PVOID insert_context);
  static VOID NTAPI csq_remove(PIO_CSQ csq, PIRP irp);
  static PIRP NTAPI csq_peek_next(PIO_CSQ csq, PIRP irp, PVOID peek_context);
  static VOID NTAPI csq_acquire_lock(PIO_CSQ csq, PKIRQL irql);
  static VOID NTAPI csq_release_lock(PIO_CSQ csq, KIRQL irql);
  static VOID NTAPI csq_complete_canceled(PIO_CSQ csq, PIRP irp);
  // The fallback's cancel routine: the IO manager calls it with the cancel spin lock held.
  static VOID NTAPI cancel_queued(PDEVICE_OBJECT device, PIRP irp);

  IO_CSQ csq_;
  KSPIN_LOCK lock_;  // guards irps_ (the IoCsq callbacks take it too)
  LIST_ENTRY irps_;
  BOOLEAN open_;               // under lock_
  CsqInsertIrpEx csq_insert_;  // nullptr: the fallback
  CsqRemoveNextIrp csq_remove_next_;
};

}  // namespace procsentry::driver
