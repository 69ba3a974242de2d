#include "device_source.h"

#include <fmt/core.h>

#include "procsentry/wire/windows_device.h"
#include "read_batch.h"

namespace procsentry {
namespace {

std::string windows_error_text(DWORD error) {
  char text[256] = {};
  FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, error, 0, text, sizeof(text),
                 nullptr);
  std::string s(text);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '.')) s.pop_back();
  return s;
}

}  // namespace

DeviceSource::DeviceSource(HANDLE device) : device_(device), buffer_(PS_WINDOWS_READ_MIN) {}

DeviceSource::~DeviceSource() { CloseHandle(device_); }

Result<std::unique_ptr<DeviceSource>> DeviceSource::open() {
  HANDLE device = CreateFileA(PS_DEVICE_PATH, GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (device == INVALID_HANDLE_VALUE) {
    DWORD error = GetLastError();
    if (error == ERROR_FILE_NOT_FOUND) {
      return Error{
          "the procsentry driver is not loaded: install and start it (sc create procsentry type= kernel "
          "binPath= C:\\path\\procsentry.sys, then sc start procsentry)"};
    }
    if (error == ERROR_ACCESS_DENIED) {
      return Error{
          "access to the procsentry device is denied: run from an elevated (administrator) prompt, and "
          "make sure no other procsentry client is running (one at a time)"};
    }
    return Error{fmt::format("cannot open {}: {}", PS_DEVICE_PATH, windows_error_text(error))};
  }
  return std::unique_ptr<DeviceSource>(new DeviceSource(device));
}

Result<int> DeviceSource::poll(int timeout_ms, RecordHandler& handler) {
  if (timeout_ms == 0 || cancelled_.load()) return 0;
  DWORD returned = 0;
  if (!DeviceIoControl(device_, PS_IOCTL_READ, nullptr, 0, buffer_.data(), static_cast<DWORD>(buffer_.size()),
                       &returned, nullptr)) {
    DWORD error = GetLastError();
    if (error == ERROR_OPERATION_ABORTED) return 0;  // cancel()
    return Error{fmt::format("reading the procsentry device failed: {}", windows_error_text(error))};
  }
  return deliver_read({buffer_.data(), returned}, handler);
}

void DeviceSource::cancel() {
  cancelled_.store(true);
  CancelIoEx(device_, nullptr);
}

}  // namespace procsentry
