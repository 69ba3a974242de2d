// The Windows sensor as seen from user mode: \\.\procsentry, read with pended IOCTLs.
#pragma once

#include <windows.h>

#include <memory>
#include <vector>

#include "core/result.h"
#include "sources/record_handler.h"

namespace procsentry {

class DeviceSource {
 public:
  static Result<std::unique_ptr<DeviceSource>> open();
  ~DeviceSource();
  DeviceSource(const DeviceSource&) = delete;
  DeviceSource& operator=(const DeviceSource&) = delete;

  // Blocks until the driver has records (or cancel() is called), then delivers them all.
  // Returns the number of records; 0 after cancel().
  Result<int> read(RecordHandler& handler);
  // From any thread (the Ctrl-C handler): ends a read that is waiting.
  void cancel();

 private:
  explicit DeviceSource(HANDLE device);
  HANDLE device_;
  std::vector<unsigned char> buffer_;
};

}  // namespace procsentry
