// One interface for everything records come from, as libscap's engines (live, savefile)
// sit behind one table: the BPF ring buffer, the Windows device, a capture file. One run
// loop (app/run_loop.h) drives any of them.
#pragma once

#include "core/result.h"
#include "sources/record_handler.h"
#include "sources/sensor_options.h"

namespace procsentry {

class Source {
 public:
  virtual ~Source() = default;

  // Waits up to timeout_ms for records (0: no wait), then delivers every record available,
  // ending each batch with on_batch_end(). Returns how many were delivered: 0 when the wait
  // ended empty (timeout, signal, cancel()). The Windows device keeps its read pended in the
  // driver across polls, so a timeout loses nothing.
  virtual Result<int> poll(int timeout_ms, RecordHandler& handler) = 0;
  // Async-signal-safe and callable from any thread: ends a wait in progress, and done() is
  // true from then on.
  virtual void cancel() = 0;
  // Nothing more will come: cancel() was called, or a capture was read to its end.
  virtual bool done() const = 0;
  // Drops the sensor itself counted since it started (each was also a lost record).
  virtual SensorDrops drops() const { return {}; }
};

}  // namespace procsentry
