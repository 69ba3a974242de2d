// Schedule points: the emulated primitives announce themselves here, so a test can force two
// process-notify callbacks to interleave exactly where a static buffer would be unsafe,
// instead of hoping a storm hits the window (the seed's race needs both callbacks between
// "allocate" and "free" at once; left to chance that happened in 1 run of 3).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace kemu {

enum class Point {
  pool_alloc,       // ExAllocatePoolWithTag, on entry
  pool_free,        // ExFreePoolWithTag, on entry (the pointer is already chosen)
  copy_memory,      // RtlCopyMemory
  spin_acquire,     // KeAcquireSpinLock, before taking the lock
  spin_release,     // KeReleaseSpinLock, after releasing it
  message_send,     // a driver's message handed to its client (the seed's SendCreateProcessEvent)
  callback_enter,   // a creation callback was entered
  callback_return,  // a process-notify callback returned to the kernel
  read_pend,        // a read IRP being pended: IoCsqInsertIrpEx on entry, or IoMarkIrpPending
};

// Called by the emulated primitives. Free unless an overlap or a hook is armed.
void schedule_point(Point point);

// Runs `run` once, in the first thread to reach `point`, before that thread goes on: a test
// makes another thread act exactly there (nullptr disarms; reset() does too).
void on_next(Point point, std::function<void()> run);

// Marks the calling thread as inside a creation callback (only those can be paired).
void enter_create_callback();
void leave_create_callback();

// Arms a forced overlap for the next two creation callbacks (any other waits on entry until
// they are done). The first two that reach
// meet_at[0] wait there for each other, then meet again at each later point in turn; from
// the first meeting on they run one at a time, the first to arrive first: it runs to the
// next meeting point, then the other does. After the last meeting the second resumes when the
// first has published (left its first spin-locked section, i.e. queued its record, or
// returned from its callback). Until both have published, no other thread takes a spin lock,
// so nobody can drain what they queued in between: whatever a shared buffer did to them is
// in the queue, every run.
void force_overlap(std::vector<Point> meet_at, int deadline_ms = 10'000);

struct OverlapResult {
  bool armed = false;
  bool met = false;     // both callbacks met at every point and published
  std::string failure;  // why not, when armed and not met
};
OverlapResult overlap_result();
void disarm_overlap();

}  // namespace kemu
