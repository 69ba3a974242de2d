// The driver's only shared mutable structure: a bounded FIFO of finished records, under one
// spin lock held only for list operations (never while allocating, copying or completing).
// Records that do not fit are counted per cause and reach the client as lost records.
#pragma once

#include "kernel.h"

namespace procsentry::driver {

// One record in its own pool allocation, built by exactly one callback invocation.
struct RecordNode {
  LIST_ENTRY link;
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
  void count_drop(ULONG cause);
  // Moves as many whole records as fit into `buffer` (pending drops first, as lost records)
  // and returns the bytes written; 0 when there was nothing to deliver.
  ULONG drain_into(UCHAR* buffer, ULONG capacity);
  bool has_data();
  void free_all();  // unload: nothing may be queued after this

 private:
  KSPIN_LOCK lock_;
  LIST_ENTRY head_;
  ULONG count_;
  ULONG max_records_;
  SIZE_T bytes_;
  SIZE_T max_bytes_;
  ULONG64 dropped_[PS_LOST_CAUSE_MAX + 1];
};

}  // namespace procsentry::driver
