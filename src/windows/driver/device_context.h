// Everything the driver owns lives in the device extension; the process-notify callback,
// which gets no context argument, reaches it through one pointer that is written before the
// callback is registered and cleared after it is unregistered (never while callbacks run).
#pragma once

#include "read_queue.h"
#include "record_queue.h"

namespace procsentry::driver {

struct DeviceContext {
  RecordQueue queue;
  // Pended read IRPs (inverted call), cancel-safe; open from an open to its cleanup. One per
  // device: the device is exclusive, so there is one open file object at a time.
  ReadQueue reads;
  // 1 once this open's client sent PS_IOCTL_VERSION with our wire version; reads fail until
  // then. Per open, kept here: the device is exclusive (one file object at a time).
  volatile LONG client_agreed;
  PDEVICE_OBJECT device;
  BOOLEAN notify_registered;
  BOOLEAN link_created;
};

// Limits of the queue: a stalled client costs at most this much nonpaged pool.
constexpr ULONG kMaxQueuedRecords = 4096;
constexpr SIZE_T kMaxQueuedBytes = 8u << 20;

extern DeviceContext* g_context;

}  // namespace procsentry::driver
