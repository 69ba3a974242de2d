// The Windows sensor as seen from user mode: \\.\procsentry, read with pended IOCTLs.
#pragma once

#include <windows.h>

#include <atomic>
#include <memory>
#include <vector>

#include "core/result.h"
#include "sources/source.h"

namespace procsentry {

class DeviceSource final : public Source {
 public:
  static Result<std::unique_ptr<DeviceSource>> open();
  ~DeviceSource() override;
  DeviceSource(const DeviceSource&) = delete;
  DeviceSource& operator=(const DeviceSource&) = delete;

  // A pended IOCTL cannot time out: any timeout_ms but 0 blocks until the driver has records
  // (or cancel() is called), then delivers them all; 0 returns at once with none. Returns
  // the number of records; 0 after cancel().
  Result<int> poll(int timeout_ms, RecordHandler& handler) override;
  // From any thread (the Ctrl-C handler): ends a read that is waiting.
  void cancel() override;
  bool done() const override { return cancelled_.load(); }

 private:
  explicit DeviceSource(HANDLE device);
  HANDLE device_;
  std::vector<unsigned char> buffer_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace procsentry
