// The Windows sensor as seen from user mode: \\.\procsentry, read with pended IOCTLs.
#pragma once

#include <windows.h>

#include <memory>
#include <vector>

#include "core/result.h"
#include "pending_read.h"
#include "sources/source.h"

namespace procsentry {

class DeviceSource final : public Source {
 public:
  static Result<std::unique_ptr<DeviceSource>> open();
  ~DeviceSource() override;
  DeviceSource(const DeviceSource&) = delete;
  DeviceSource& operator=(const DeviceSource&) = delete;

  // One read is kept pended in the driver (overlapped): poll waits up to timeout_ms for it to
  // complete, and a read still pending is waited for again by the next poll, so nothing is
  // lost between polls. Returns the number of records; 0 on timeout or after cancel().
  Result<int> poll(int timeout_ms, RecordHandler& handler) override;
  // From any thread (the Ctrl-C handler): a waiting poll wakes at once and cancels the read
  // with CancelIoEx (records it completed with first are still delivered).
  void cancel() override;
  bool done() const override { return read_.cancelled(); }

 private:
  struct OwnedHandle {
    HANDLE handle;
    ~OwnedHandle() { CloseHandle(handle); }
  };
  DeviceSource(HANDLE device, HANDLE read_done, HANDLE cancel_event);
  OwnedHandle device_;  // declared first: closed after read_ ended its read
  std::vector<unsigned char> buffer_;
  PendingRead read_;
};

}  // namespace procsentry
