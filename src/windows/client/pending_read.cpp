#include "pending_read.h"

namespace procsentry {

PendingRead::PendingRead(HANDLE handle, HANDLE read_done, HANDLE cancel_event)
    : handle_(handle), cancel_event_(cancel_event) {
  overlapped_.hEvent = read_done;
}

PendingRead::~PendingRead() {
  if (pending_) {
    CancelIoEx(handle_, &overlapped_);
    DWORD bytes = 0;
    GetOverlappedResult(handle_, &overlapped_, &bytes, TRUE);
  }
  CloseHandle(overlapped_.hEvent);
  CloseHandle(cancel_event_);
}

void PendingRead::cancel() {
  cancelled_.store(true);
  SetEvent(cancel_event_);
}

PendingRead::Wait PendingRead::finish(bool block) {
  DWORD bytes = 0;
  if (GetOverlappedResult(handle_, &overlapped_, &bytes, block ? TRUE : FALSE)) {
    pending_ = false;
    return Wait{Outcome::completed, bytes};
  }
  DWORD error = GetLastError();
  if (error == ERROR_IO_INCOMPLETE) return Wait{Outcome::timed_out, 0};
  pending_ = false;
  if (error == ERROR_OPERATION_ABORTED) return Wait{Outcome::cancelled, 0};
  return Wait{Outcome::failed, error};
}

PendingRead::Wait PendingRead::wait(const Start& start, DWORD timeout_ms) {
  if (cancelled_.load()) {
    if (!pending_) return Wait{Outcome::cancelled, 0};
    CancelIoEx(handle_, &overlapped_);
    return finish(true);
  }
  if (!pending_) {
    ResetEvent(overlapped_.hEvent);
    if (start(handle_, &overlapped_)) return finish(true);  // completed at once
    DWORD error = GetLastError();
    if (error == ERROR_OPERATION_ABORTED) return Wait{Outcome::cancelled, 0};
    if (error != ERROR_IO_PENDING) return Wait{Outcome::failed, error};
    pending_ = true;
  }
  HANDLE events[2] = {overlapped_.hEvent, cancel_event_};
  DWORD woke = WaitForMultipleObjects(2, events, FALSE, timeout_ms);
  if (woke == WAIT_OBJECT_0) return finish(true);
  if (woke == WAIT_OBJECT_0 + 1) {
    CancelIoEx(handle_, &overlapped_);
    return finish(true);
  }
  if (woke == WAIT_TIMEOUT) return Wait{Outcome::timed_out, 0};
  return Wait{Outcome::failed, GetLastError()};
}

}  // namespace procsentry
