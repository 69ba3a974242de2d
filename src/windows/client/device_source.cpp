#include "device_source.h"

#include <fmt/core.h>

#include "driver_version.h"
#include "platform/windows/error_text.h"
#include "procsentry/wire/windows_device.h"
#include "read_batch.h"

namespace procsentry {
namespace {

// Before any read: a driver of another wire version is refused with one line.
Result<Ok> handshake(HANDLE device) {
  OVERLAPPED overlapped{};
  overlapped.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  if (overlapped.hEvent == nullptr) {
    return Error{fmt::format("cannot create an event: {}", windows_error_text(GetLastError()))};
  }
  ps_device_version sent{PS_WIRE_VERSION, 0};
  DriverVersionAnswer answer;
  DWORD bytes = 0;
  BOOL done = DeviceIoControl(device, PS_IOCTL_VERSION, &sent, sizeof(sent), &answer.version, sizeof(answer.version),
                              nullptr, &overlapped);
  DWORD error = done ? ERROR_SUCCESS : GetLastError();
  if (done || error == ERROR_IO_PENDING) {
    done = GetOverlappedResult(device, &overlapped, &bytes, TRUE);
    error = done ? ERROR_SUCCESS : GetLastError();
  }
  CloseHandle(overlapped.hEvent);
  if (!done && error != ERROR_INVALID_FUNCTION) {
    return Error{fmt::format("the procsentry driver's version handshake failed: {}", windows_error_text(error))};
  }
  answer.answered = done != FALSE;
  answer.bytes = bytes;
  return check_driver_version(answer);
}

}  // namespace

DeviceSource::DeviceSource(HANDLE device, HANDLE read_done, HANDLE cancel_event)
    : device_{device}, buffer_(PS_WINDOWS_READ_MIN), read_(device, read_done, cancel_event) {}

// Members go in reverse order: read_ ends a pending read (it writes into buffer_), then the
// buffer, then the handle.
DeviceSource::~DeviceSource() = default;

Result<std::unique_ptr<DeviceSource>> DeviceSource::open() {
  HANDLE device = CreateFileA(PS_DEVICE_PATH, GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              FILE_FLAG_OVERLAPPED, nullptr);
  if (device == INVALID_HANDLE_VALUE) {
    DWORD error = GetLastError();
    if (error == ERROR_FILE_NOT_FOUND) {
      return Error{
          "the procsentry driver is not loaded: install and start it from an elevated prompt (procsentry.exe "
          "install, then procsentry.exe start)"};
    }
    if (error == ERROR_ACCESS_DENIED) {
      return Error{
          "access to the procsentry device is denied: run from an elevated (administrator) prompt, and "
          "make sure no other procsentry client is running (one at a time)"};
    }
    return Error{fmt::format("cannot open {}: {}", PS_DEVICE_PATH, windows_error_text(error))};
  }
  if (auto agreed = handshake(device); !agreed) {
    CloseHandle(device);
    return agreed.error();
  }
  HANDLE read_done = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  HANDLE cancel_event = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  if (read_done == nullptr || cancel_event == nullptr) {
    DWORD error = GetLastError();
    if (read_done != nullptr) CloseHandle(read_done);
    if (cancel_event != nullptr) CloseHandle(cancel_event);
    CloseHandle(device);
    return Error{fmt::format("cannot create an event: {}", windows_error_text(error))};
  }
  return std::unique_ptr<DeviceSource>(new DeviceSource(device, read_done, cancel_event));
}

Result<int> DeviceSource::poll(int timeout_ms, RecordHandler& handler) {
  auto start = [this](HANDLE device, OVERLAPPED* overlapped) {
    return DeviceIoControl(device, PS_IOCTL_READ, nullptr, 0, buffer_.data(), static_cast<DWORD>(buffer_.size()),
                           nullptr, overlapped);
  };
  PendingRead::Wait w = read_.wait(start, timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms));
  switch (w.outcome) {
    case PendingRead::Outcome::completed:
      return deliver_read({buffer_.data(), w.bytes}, handler);
    case PendingRead::Outcome::timed_out:
    case PendingRead::Outcome::cancelled:
      return 0;
    case PendingRead::Outcome::failed:
      break;
  }
  return Error{fmt::format("reading the procsentry device failed: {}", windows_error_text(w.bytes))};
}

void DeviceSource::cancel() { read_.cancel(); }

}  // namespace procsentry
