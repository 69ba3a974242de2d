// One overlapped read kept pending on a handle, and a cancel that ends it at once from any
// thread: the waiting side sleeps on the read's event and a cancel event together, so a
// Ctrl-C that arrives before, during or after the read was issued is never missed (a flag
// checked before a blocking DeviceIoControl would be: the read would pend until an event).
#pragma once

#include <windows.h>

#include <atomic>
#include <functional>

namespace procsentry {

class PendingRead {
 public:
  // Starts an overlapped operation with the OVERLAPPED it is given (DeviceIoControl, ReadFile).
  using Start = std::function<BOOL(HANDLE, OVERLAPPED*)>;
  enum class Outcome { completed, timed_out, cancelled, failed };
  struct Wait {
    Outcome outcome;
    DWORD bytes;  // completed: what the read returned; failed: the Windows error
  };

  // Owns both events (manual reset); `handle` was opened with FILE_FLAG_OVERLAPPED.
  PendingRead(HANDLE handle, HANDLE read_done, HANDLE cancel_event);
  ~PendingRead();  // a read still pending is cancelled and waited for: it writes into the caller's buffer
  PendingRead(const PendingRead&) = delete;
  PendingRead& operator=(const PendingRead&) = delete;

  // Issues a read unless one is pending, then waits up to timeout_ms (0: only looks) for it
  // or for cancel(). After cancel(), a pending read is cancelled with CancelIoEx and its end
  // waited for: `completed` if it had completed with data first, else `cancelled`.
  Wait wait(const Start& start, DWORD timeout_ms);
  void cancel();  // any thread
  bool cancelled() const { return cancelled_.load(); }

 private:
  Wait finish(bool block);
  HANDLE handle_;
  HANDLE cancel_event_;
  OVERLAPPED overlapped_{};
  bool pending_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace procsentry
