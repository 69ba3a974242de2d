// The shipped procsentry.sys as Wine's winedevice.exe loaded it, seen from user mode (run by
// tests/unit/driver_wine_load_test.cpp): `device_check loaded` opens \\.\procsentry as the
// client does, is refused a read before the version handshake, makes the handshake, pends a
// read and cancels it (the driver's own cancel routine: Wine has no IoCsqInsertIrpEx), closes
// and opens again; `device_check unloaded` finds no device. One line per check ("ok NAME" or
// "FAIL NAME: why"); exits 1 if any failed.
#include <windows.h>

#include <cstdio>
#include <string>

#include "procsentry/wire/windows_device.h"

namespace {

int g_failures = 0;

void check(bool ok, const char* name, const std::string& why = {}) {
  std::printf(ok ? "ok %s\n" : "FAIL %s: %s\n", name, why.c_str());
  std::fflush(stdout);
  if (!ok) ++g_failures;
}

std::string error_is(DWORD got, DWORD wanted) {
  return "error " + std::to_string(got) + ", wanted " + std::to_string(wanted);
}

HANDLE open_device() {
  return CreateFileA(PS_DEVICE_PATH, GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, FILE_FLAG_OVERLAPPED,
                     nullptr);
}

// One IOCTL, waited for: its error (ERROR_SUCCESS when it succeeded) and bytes.
DWORD ioctl(HANDLE device, DWORD code, void* in, DWORD in_size, void* out, DWORD out_size, DWORD& bytes) {
  OVERLAPPED overlapped{};
  overlapped.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  BOOL done = DeviceIoControl(device, code, in, in_size, out, out_size, nullptr, &overlapped);
  DWORD error = done ? ERROR_SUCCESS : GetLastError();
  if (done || error == ERROR_IO_PENDING) {
    done = GetOverlappedResult(device, &overlapped, &bytes, TRUE);
    error = done ? ERROR_SUCCESS : GetLastError();
  }
  CloseHandle(overlapped.hEvent);
  return error;
}

bool handshake(HANDLE device) {
  ps_device_version version{PS_WIRE_VERSION, 0};
  DWORD bytes = 0;
  DWORD error = ioctl(device, PS_IOCTL_VERSION, &version, sizeof(version), &version, sizeof(version), bytes);
  check(error == ERROR_SUCCESS && bytes == sizeof(version) && version.wire_version == PS_WIRE_VERSION,
        "handshake_answers_the_wire_version",
        "error " + std::to_string(error) + ", " + std::to_string(bytes) + " bytes, version " +
            std::to_string(version.wire_version));
  return error == ERROR_SUCCESS;
}

void loaded() {
  HANDLE device = open_device();
  check(device != INVALID_HANDLE_VALUE, "open", "error " + std::to_string(GetLastError()));
  if (device == INVALID_HANDLE_VALUE) return;
  static char buffer[PS_WINDOWS_READ_MIN];
  DWORD bytes = 0;
  DWORD early = ioctl(device, PS_IOCTL_READ, nullptr, 0, buffer, sizeof(buffer), bytes);
  check(early == ERROR_REVISION_MISMATCH, "read_before_handshake_refused", error_is(early, ERROR_REVISION_MISMATCH));
  if (handshake(device)) {
    OVERLAPPED overlapped{};
    overlapped.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
    BOOL done = DeviceIoControl(device, PS_IOCTL_READ, nullptr, 0, buffer, sizeof(buffer), nullptr, &overlapped);
    DWORD error = done ? ERROR_SUCCESS : GetLastError();
    // Under Wine no process event reaches the driver: the read stays pended until cancelled.
    const bool pended = error == ERROR_IO_PENDING && WaitForSingleObject(overlapped.hEvent, 0) == WAIT_TIMEOUT;
    check(pended, "read_pends", error_is(error, ERROR_IO_PENDING));
    if (pended) {
      check(CancelIoEx(device, &overlapped) != FALSE, "cancel_requested", "error " + std::to_string(GetLastError()));
      BOOL result = GetOverlappedResult(device, &overlapped, &bytes, TRUE);
      DWORD cancelled = result ? ERROR_SUCCESS : GetLastError();
      check(cancelled == ERROR_OPERATION_ABORTED, "read_cancelled", error_is(cancelled, ERROR_OPERATION_ABORTED));
    }
    CloseHandle(overlapped.hEvent);
  }
  CloseHandle(device);  // cleanup, then close
  HANDLE again = open_device();
  check(again != INVALID_HANDLE_VALUE, "open_again_after_close", "error " + std::to_string(GetLastError()));
  if (again != INVALID_HANDLE_VALUE) {
    handshake(again);
    CloseHandle(again);
  }
}

void unloaded() {
  HANDLE device = open_device();
  DWORD error = device == INVALID_HANDLE_VALUE ? GetLastError() : ERROR_SUCCESS;
  check(error == ERROR_FILE_NOT_FOUND, "no_device_after_stop", error_is(error, ERROR_FILE_NOT_FOUND));
  if (device != INVALID_HANDLE_VALUE) CloseHandle(device);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 2 ? argv[1] : "";
  if (mode == "loaded") {
    loaded();
  } else if (mode == "unloaded") {
    unloaded();
  } else {
    std::fprintf(stderr, "usage: device_check loaded|unloaded\n");
    return 2;
  }
  return g_failures == 0 ? 0 : 1;
}
