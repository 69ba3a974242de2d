// The driver's only shared mutable structure: a bounded FIFO of finished records, under one
// spin lock held only for list operations (never while allocating, copying or completing).
// Records that do not fit are counted per cause where the loss happened: after the record
// queued last before it, so the client's lost record keeps its place in time.
#pragma once

#include "kernel.h"

namespace procsentry::driver {

// Losses counted at one place in the queue: per cause, with the first loss's time and CPU.
struct LostSince {
  ULONG64 count[PS_LOST_CAUSE_MAX + 1];
  ULONG64 first_ns;
  ULONG first_cpu;
  ULONG reserved;
};

// One record in its own pool allocation, built by exactly one callback invocation.
struct RecordNode {
  LIST_ENTRY link;
  LostSince lost_after;  // losses while this was the newest record queued
  ULONG size;
  ULONG reserved;
  UCHAR bytes[1];  // `size` bytes of wire record
};

RecordNode* allocate_record(ULONG size);  // zeroed; nullptr when the pool is exhausted
void free_record(RecordNode* node);

class RecordQueue {
 public:
  void init(ULONG max_records, SIZE_T max_bytes);
  // Takes ownership. False when full: the record is freed and a drop counted.
  bool push(RecordNode* node);
  // A record lost before it was built (`cause`), at `now_ns` on `cpu`.
  void count_drop(ULONG cause, ULONG64 now_ns, ULONG cpu);
  // Moves as many whole records as fit into `buffer`, each loss as a lost record where it
  // happened, and returns the bytes written; 0 when there was nothing to deliver.
  ULONG drain_into(UCHAR* buffer, ULONG capacity);
  bool has_data();
  void free_all();  // unload: nothing may be queued after this

 private:
  LostSince& lost_here();  // under lock_: the losses after the newest queued record
  KSPIN_LOCK lock_;
  LIST_ENTRY head_;
  ULONG count_;
  ULONG max_records_;
  SIZE_T bytes_;
  SIZE_T max_bytes_;
  LostSince lost_first_;  // losses ahead of every queued record
};

}  // namespace procsentry::driver
