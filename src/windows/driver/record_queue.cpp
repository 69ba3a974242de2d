#include "record_queue.h"

namespace procsentry::driver {
namespace {

void add_loss(LostSince& lost, ULONG cause, ULONG64 count, ULONG64 now_ns, ULONG cpu) {
  bool first = true;
  for (ULONG64 c : lost.count) first = first && c == 0;
  if (first) {
    lost.first_ns = now_ns;
    lost.first_cpu = cpu;
  }
  lost.count[cause] += count;
}

ULONG lost_bytes(const LostSince& lost) {
  ULONG bytes = 0;
  for (ULONG cause = 1; cause <= PS_LOST_CAUSE_MAX; ++cause) {
    if (lost.count[cause] != 0) bytes += sizeof(ps_lost);
  }
  return bytes;
}

// Outside the lock: one lost record per cause with a count.
ULONG write_lost(UCHAR* buffer, const LostSince& lost) {
  ULONG at = 0;
  for (ULONG cause = 1; cause <= PS_LOST_CAUSE_MAX; ++cause) {
    if (lost.count[cause] == 0) continue;
    ps_lost record;
    RtlZeroMemory(&record, sizeof(record));
    record.hdr.magic = PS_WIRE_MAGIC;
    record.hdr.version = PS_WIRE_VERSION;
    record.hdr.type = PS_REC_LOST;
    record.hdr.size = sizeof(record);
    record.hdr.timestamp_ns = lost.first_ns;
    record.hdr.clock = PS_CLOCK_UNIX_EPOCH;
    record.hdr.cpu = lost.first_cpu;
    record.count = lost.count[cause];
    record.cause = cause;
    RtlCopyMemory(buffer + at, &record, sizeof(record));
    at += sizeof(record);
  }
  return at;
}

}  // namespace

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
  RtlZeroMemory(&lost_first_, sizeof(lost_first_));
}

LostSince& RecordQueue::lost_here() {
  if (IsListEmpty(&head_)) return lost_first_;
  return CONTAINING_RECORD(head_.Blink, RecordNode, link)->lost_after;
}

bool RecordQueue::push(RecordNode* node) {
  ps_header hdr;
  RtlCopyMemory(&hdr, node->bytes, sizeof(hdr));  // a lost record carries the loss's time
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  bool fits = count_ < max_records_ && bytes_ + node->size <= max_bytes_;
  if (fits) {
    InsertTailList(&head_, &node->link);
    count_ += 1;
    bytes_ += node->size;
  } else {
    add_loss(lost_here(), PS_LOST_QUEUE_FULL, 1, hdr.timestamp_ns, hdr.cpu);
  }
  KeReleaseSpinLock(&lock_, irql);
  if (!fits) free_record(node);
  return fits;
}

void RecordQueue::count_drop(ULONG cause, ULONG64 now_ns, ULONG cpu) {
  if (cause == 0 || cause > PS_LOST_CAUSE_MAX) return;
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  add_loss(lost_here(), cause, 1, now_ns, cpu);
  KeReleaseSpinLock(&lock_, irql);
}

bool RecordQueue::has_data() {
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  bool any = !IsListEmpty(&head_) || lost_bytes(lost_first_) != 0;
  KeReleaseSpinLock(&lock_, irql);
  return any;
}

ULONG RecordQueue::drain_into(UCHAR* buffer, ULONG capacity) {
  LIST_ENTRY taken;
  InitializeListHead(&taken);
  LostSince first;
  ULONG used = 0;

  // Under the lock: take the losses ahead of everything (a read always has room for them),
  // then unlink whole records in order while they fit, each with the losses that followed it.
  KIRQL irql;
  KeAcquireSpinLock(&lock_, &irql);
  first = lost_first_;
  used = lost_bytes(first);
  if (used > capacity) {
    used = 0;
    RtlZeroMemory(&first, sizeof(first));
  } else {
    RtlZeroMemory(&lost_first_, sizeof(lost_first_));
  }
  while (!IsListEmpty(&head_)) {
    RecordNode* next = CONTAINING_RECORD(head_.Flink, RecordNode, link);
    if (used + next->size > capacity) break;
    RemoveHeadList(&head_);
    InsertTailList(&taken, &next->link);
    used += next->size;
    count_ -= 1;
    bytes_ -= next->size;
    ULONG after = lost_bytes(next->lost_after);
    if (used + after > capacity) {
      // The losses after it do not fit this read: they lead the next one, still in place.
      lost_first_ = next->lost_after;
      RtlZeroMemory(&next->lost_after, sizeof(next->lost_after));
      break;
    }
    used += after;
  }
  KeReleaseSpinLock(&lock_, irql);

  // Outside the lock (the taken nodes are ours alone): copy in order, then free.
  ULONG at = write_lost(buffer, first);
  while (!IsListEmpty(&taken)) {
    RecordNode* node = CONTAINING_RECORD(RemoveHeadList(&taken), RecordNode, link);
    RtlCopyMemory(buffer + at, node->bytes, node->size);
    at += node->size;
    at += write_lost(buffer + at, node->lost_after);
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
  RtlZeroMemory(&lost_first_, sizeof(lost_first_));
  KeReleaseSpinLock(&lock_, irql);
  if (!any) return;
  while (!IsListEmpty(&taken)) free_record(CONTAINING_RECORD(RemoveHeadList(&taken), RecordNode, link));
}

}  // namespace procsentry::driver
