#include "read_queue.h"

namespace procsentry::driver {
namespace {

PVOID routine(PCWSTR name) {
  UNICODE_STRING s;
  RtlInitUnicodeString(&s, name);
  return MmGetSystemRoutineAddress(&s);
}

void complete_cancelled(PIRP irp) {
  irp->IoStatus.Status = STATUS_CANCELLED;
  irp->IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}

using CsqInitializeEx = NTSTATUS(NTAPI*)(PIO_CSQ, PIO_CSQ_INSERT_IRP_EX, PIO_CSQ_REMOVE_IRP, PIO_CSQ_PEEK_NEXT_IRP,
                                         PIO_CSQ_ACQUIRE_LOCK, PIO_CSQ_RELEASE_LOCK, PIO_CSQ_COMPLETE_CANCELED_IRP);

}  // namespace

NTSTATUS ReadQueue::init() {
  KeInitializeSpinLock(&lock_);
  InitializeListHead(&irps_);
  open_ = FALSE;
  csq_insert_ = nullptr;
  csq_remove_next_ = nullptr;
  auto initialize = reinterpret_cast<CsqInitializeEx>(routine(L"IoCsqInitializeEx"));
  auto insert = reinterpret_cast<CsqInsertIrpEx>(routine(L"IoCsqInsertIrpEx"));
  auto remove_next = reinterpret_cast<CsqRemoveNextIrp>(routine(L"IoCsqRemoveNextIrp"));
  if (initialize == nullptr || insert == nullptr || remove_next == nullptr) return STATUS_SUCCESS;  // the fallback
  NTSTATUS status = initialize(&csq_, csq_insert, csq_remove, csq_peek_next, csq_acquire_lock, csq_release_lock,
                               csq_complete_canceled);
  if (!NT_SUCCESS(status)) return status;
  csq_insert_ = insert;
  csq_remove_next_ = remove_next;
  return STATUS_SUCCESS;
}

void ReadQueue::open() {
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  open_ = TRUE;
  KeReleaseSpinLock(&lock_, irql);
}

void ReadQueue::close() {
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  open_ = FALSE;
  KeReleaseSpinLock(&lock_, irql);
  while (PIRP irp = remove_next()) complete_cancelled(irp);
}

bool ReadQueue::is_open() {
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  bool open = open_ != FALSE;
  KeReleaseSpinLock(&lock_, irql);
  return open;
}

void ReadQueue::insert(PIRP irp) {
  if (csq_insert_ != nullptr) {
    if (!NT_SUCCESS(csq_insert_(&csq_, irp, nullptr, nullptr))) {
      // csq_insert refused it (closed). Pending either way, so the dispatch's STATUS_PENDING
      // holds whether or not IoCsqInsertIrpEx marked it.
      IoMarkIrpPending(irp);
      complete_cancelled(irp);
    }
    return;
  }
  IoMarkIrpPending(irp);
  irp->Tail.Overlay.DriverContext[0] = this;  // for cancel_queued; ours while we hold the IRP
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  if (!open_) {
    KeReleaseSpinLock(&lock_, irql);
    complete_cancelled(irp);
    return;
  }
  IoSetCancelRoutine(irp, cancel_queued);
  // IoCancelIrp sets Cancel, then takes the cancel routine. Cancelled, and the routine still
  // ours: IoCancelIrp came before it was set and will not call it, so the read is ours to
  // complete. Routine already taken: cancel_queued runs and unlinks it, so it is queued all
  // the same.
  if (irp->Cancel && IoSetCancelRoutine(irp, nullptr) != nullptr) {
    KeReleaseSpinLock(&lock_, irql);
    complete_cancelled(irp);
    return;
  }
  InsertTailList(&irps_, &irp->Tail.Overlay.ListEntry);
  KeReleaseSpinLock(&lock_, irql);
}

PIRP ReadQueue::remove_next() {
  if (csq_remove_next_ != nullptr) return csq_remove_next_(&csq_, nullptr);
  PIRP found = nullptr;
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  while (found == nullptr && !IsListEmpty(&irps_)) {
    LIST_ENTRY* entry = RemoveHeadList(&irps_);
    PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
    if (IoSetCancelRoutine(irp, nullptr) != nullptr) {
      found = irp;
    } else {
      // Its cancel routine has been taken and waits for the lock: linked to itself, its
      // RemoveEntryList there changes nothing.
      InitializeListHead(entry);
    }
  }
  KeReleaseSpinLock(&lock_, irql);
  return found;
}

VOID NTAPI ReadQueue::cancel_queued(PDEVICE_OBJECT, PIRP irp) {
  IoReleaseCancelSpinLock(irp->CancelIrql);
  auto* queue = static_cast<ReadQueue*>(irp->Tail.Overlay.DriverContext[0]);
  KIRQL irql;
  KeAcquireSpinLock(&queue->lock_, &irql);
  RemoveEntryList(&irp->Tail.Overlay.ListEntry);
  KeReleaseSpinLock(&queue->lock_, irql);
  complete_cancelled(irp);
}

// The IoCsq callbacks: the IO manager calls them under csq_acquire_lock.
ReadQueue& ReadQueue::of(PIO_CSQ csq) { return *CONTAINING_RECORD(csq, ReadQueue, csq_); }

NTSTATUS NTAPI ReadQueue::csq_insert(PIO_CSQ csq, PIRP irp, PVOID) {
  if (!of(csq).open_) return STATUS_CANCELLED;  // IoCsqInsertIrpEx then leaves it to insert()
  InsertTailList(&of(csq).irps_, &irp->Tail.Overlay.ListEntry);
  return STATUS_SUCCESS;
}

VOID NTAPI ReadQueue::csq_remove(PIO_CSQ, PIRP irp) { RemoveEntryList(&irp->Tail.Overlay.ListEntry); }

PIRP NTAPI ReadQueue::csq_peek_next(PIO_CSQ csq, PIRP irp, PVOID) {
  LIST_ENTRY* head = &of(csq).irps_;
  LIST_ENTRY* next = irp == nullptr ? head->Flink : irp->Tail.Overlay.ListEntry.Flink;
  return next == head ? nullptr : CONTAINING_RECORD(next, IRP, Tail.Overlay.ListEntry);
}

VOID NTAPI ReadQueue::csq_acquire_lock(PIO_CSQ csq, PKIRQL irql) { KeAcquireSpinLock(&of(csq).lock_, irql); }

VOID NTAPI ReadQueue::csq_release_lock(PIO_CSQ csq, KIRQL irql) { KeReleaseSpinLock(&of(csq).lock_, irql); }

VOID NTAPI ReadQueue::csq_complete_canceled(PIO_CSQ, PIRP irp) { complete_cancelled(irp); }

}  // namespace procsentry::driver
