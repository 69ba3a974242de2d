#include "record_queue.h"

namespace procsentry::driver {

RecordNode* allocate_record(ULONG size) {
  SIZE_T total = FIELD_OFFSET(RecordNode, bytes) + static_cast<SIZE_T>(size);
  auto* node = static_cast<RecordNode*>(ExAllocatePoolWithTag(NonPagedPoolNx, total, kPoolTag));
  if (node == nullptr) return nullptr;
  RtlZeroMemory(node, total);  // padding and reserved fields reach user mode: no stale bytes
  node->size = size;
  return node;
}

void free_record(RecordNode* node) { ExFreePoolWithTag(node, kPoolTag); }

void RecordQueue::init(ULONG max_records, SIZE_T max_bytes) {
  KeInitializeSpinLock(&lock_);
  InitializeListHead(&head_);
  count_ = 0;
  bytes_ = 0;
  max_records_ = max_records;
  max_bytes_ = max_bytes;
  for (ULONG64& d : dropped_) d = 0;
}

bool RecordQueue::push(RecordNode* node) {
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  bool fits = count_ < max_records_ && bytes_ + node->size <= max_bytes_;
  if (fits) {
    InsertTailList(&head_, &node->link);
    count_ += 1;
    bytes_ += node->size;
  } else {
    dropped_[PS_LOST_QUEUE_FULL] += 1;
  }
  KeReleaseSpinLock(&lock_, irql);
  if (!fits) free_record(node);
  return fits;
}

void RecordQueue::count_drop(ULONG cause) {
  if (cause > PS_LOST_CAUSE_MAX) return;
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  dropped_[cause] += 1;
  KeReleaseSpinLock(&lock_, irql);
}

bool RecordQueue::has_data() {
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  bool any = !IsListEmpty(&head_);
  for (ULONG64 d : dropped_) any = any || d != 0;
  KeReleaseSpinLock(&lock_, irql);
  return any;
}

ULONG RecordQueue::drain_into(UCHAR* buffer, ULONG capacity) {
  LIST_ENTRY taken;
  InitializeListHead(&taken);
  ULONG64 lost[PS_LOST_CAUSE_MAX + 1] = {};
  ULONG used = 0;

  // Under the lock: only unlink what fits, and take the pending drop counts.
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  for (ULONG cause = 1; cause <= PS_LOST_CAUSE_MAX; ++cause) {
    if (dropped_[cause] != 0 && used + sizeof(ps_lost) <= capacity) {
      lost[cause] = dropped_[cause];
      dropped_[cause] = 0;
      used += sizeof(ps_lost);
    }
  }
  while (!IsListEmpty(&head_)) {
    RecordNode* next = CONTAINING_RECORD(head_.Flink, RecordNode, link);
    if (used + next->size > capacity) break;
    RemoveHeadList(&head_);
    InsertTailList(&taken, &next->link);
    used += next->size;
    count_ -= 1;
    bytes_ -= next->size;
  }
  KeReleaseSpinLock(&lock_, irql);

  // Outside the lock: build lost records and copy, then free.
  ULONG at = 0;
  LARGE_INTEGER now;
  KeQuerySystemTime(&now);
  for (ULONG cause = 1; cause <= PS_LOST_CAUSE_MAX; ++cause) {
    if (lost[cause] == 0) continue;
    ps_lost record;
    RtlZeroMemory(&record, sizeof(record));
    record.hdr.magic = PS_WIRE_MAGIC;
    record.hdr.version = PS_WIRE_VERSION;
    record.hdr.type = PS_REC_LOST;
    record.hdr.size = sizeof(record);
    record.hdr.timestamp_ns = windows_time_to_epoch_ns(now.QuadPart);
    record.hdr.clock = PS_CLOCK_UNIX_EPOCH;
    record.count = lost[cause];
    record.cause = cause;
    RtlCopyMemory(buffer + at, &record, sizeof(record));
    at += sizeof(record);
  }
  while (!IsListEmpty(&taken)) {
    RecordNode* node = CONTAINING_RECORD(RemoveHeadList(&taken), RecordNode, link);
    RtlCopyMemory(buffer + at, node->bytes, node->size);
    at += node->size;
    free_record(node);
  }
  return at;
}

void RecordQueue::free_all() {
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  LIST_ENTRY taken = head_;
  bool any = !IsListEmpty(&head_);
  if (any) {
    // Move the whole chain to a local head, then free outside the lock.
    taken.Flink->Blink = &taken;
    taken.Blink->Flink = &taken;
  }
  InitializeListHead(&head_);
  count_ = 0;
  bytes_ = 0;
  KeReleaseSpinLock(&lock_, irql);
  if (!any) return;
  while (!IsListEmpty(&taken)) free_record(CONTAINING_RECORD(RemoveHeadList(&taken), RecordNode, link));
}

}  // namespace procsentry::driver
