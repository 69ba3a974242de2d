#include "service_control.h"

#include <fmt/core.h>
#include <windows.h>

#include <cstring>
#include <string>
#include <string_view>

#include "core/utf16.h"
#include "platform/windows/error_text.h"

namespace procsentry {
namespace {

constexpr const wchar_t* kServiceName = L"procsentry";
constexpr DWORD kStateDeadlineMs = 30'000;
// ERROR_INVALID_IMAGE_HASH (winerror.h of newer SDKs than mingw-w64's): the signature was refused.
constexpr DWORD kInvalidImageHash = 577;

std::string utf8(const std::wstring& s) {
  return utf16le_to_utf8(std::string_view(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(wchar_t)));
}

std::string error_text(DWORD error) { return fmt::format("{} (error {})", windows_error_text(error), error); }

int fail(const std::string& line) {
  fmt::print(stderr, "procsentry: {}\n", line);
  return 1;
}

// What to do about an error every command can meet; empty if it has no general advice.
std::string advice(DWORD error) {
  if (error == ERROR_ACCESS_DENIED) return "run it from an elevated (administrator) prompt";
  if (error == ERROR_SERVICE_DOES_NOT_EXIST) return "the driver is not installed: procsentry.exe install";
  return {};
}

int fail_with(const char* what, DWORD error) {
  std::string todo = advice(error);
  return fail(fmt::format("{} failed: {}{}{}", what, error_text(error), todo.empty() ? "" : ": ", todo));
}

class Handle {
 public:
  explicit Handle(SC_HANDLE h) : h_(h) {}
  ~Handle() {
    if (h_ != nullptr) CloseServiceHandle(h_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  SC_HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  SC_HANDLE h_;
};

// Polls until the service reaches `wanted` or leaves its pending state for another one;
// kernel drivers have no wait hint worth trusting, so a fixed deadline bounds it.
bool wait_for_state(SC_HANDLE service, DWORD wanted, SERVICE_STATUS& status) {
  const ULONGLONG until = GetTickCount64() + kStateDeadlineMs;
  for (;;) {
    if (!QueryServiceStatus(service, &status)) return false;
    if (status.dwCurrentState == wanted) return true;
    bool pending = status.dwCurrentState == SERVICE_START_PENDING || status.dwCurrentState == SERVICE_STOP_PENDING;
    if (!pending || GetTickCount64() > until) return false;
    Sleep(50);  // the SCM has no wait that covers kernel drivers on every Windows (and Wine)
  }
}

// procsentry.sys next to this procsentry.exe.
std::wstring driver_next_to_exe() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n == 0) return {};
    if (n < path.size()) {
      path.resize(n);
      break;
    }
    path.resize(path.size() * 2);
  }
  path.resize(path.find_last_of(L"\\/") + 1);
  return path + L"procsentry.sys";
}

std::wstring full_path(const std::wstring& path) {
  DWORD n = GetFullPathNameW(path.c_str(), 0, nullptr, nullptr);
  if (n == 0) return path;
  std::wstring full(n, L'\0');
  n = GetFullPathNameW(path.c_str(), n, full.data(), nullptr);
  full.resize(n);
  return full;
}

std::wstring widen(const char* s) {
  int n = MultiByteToWideChar(CP_ACP, 0, s, -1, nullptr, 0);
  std::wstring w(n > 0 ? static_cast<std::size_t>(n) : 0, L'\0');
  if (n > 0) MultiByteToWideChar(CP_ACP, 0, s, -1, w.data(), n);
  if (!w.empty()) w.pop_back();  // the terminator
  return w;
}

int install(const std::wstring& given) {
  std::wstring path = full_path(given.empty() ? driver_next_to_exe() : given);
  DWORD attributes = GetFileAttributesW(path.c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES || (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    return fail(fmt::format(
        "{} is not a file: give the driver's path (procsentry.exe install C:\\path\\procsentry.sys)", utf8(path)));
  }
  Handle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE));
  if (!scm) return fail_with("opening the Service Control Manager", GetLastError());
  Handle service(CreateServiceW(scm.get(), kServiceName, L"procsentry process monitor", SERVICE_QUERY_STATUS,
                                SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, path.c_str(),
                                nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!service) {
    DWORD error = GetLastError();
    if (error == ERROR_SERVICE_EXISTS) {
      return fail("the driver is already installed: procsentry.exe uninstall first to install another procsentry.sys");
    }
    return fail_with("installing the driver", error);
  }
  fmt::print("procsentry: installed the driver {} (start it: procsentry.exe start)\n", utf8(path));
  return 0;
}

int start() {
  Handle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return fail_with("opening the Service Control Manager", GetLastError());
  Handle service(OpenServiceW(scm.get(), kServiceName, SERVICE_START | SERVICE_QUERY_STATUS));
  if (!service) return fail_with("opening the driver's service", GetLastError());
  if (!StartServiceW(service.get(), 0, nullptr)) {
    DWORD error = GetLastError();
    if (error == ERROR_SERVICE_ALREADY_RUNNING) {
      fmt::print("procsentry: the driver is already running\n");
      return 0;
    }
    if (error == kInvalidImageHash) {
      return fail(
          "Windows refused the driver's signature (error 577): turn test signing on (bcdedit /set testsigning on, "
          "reboot) and import procsentry-test.cer (README, Windows)");
    }
    return fail_with("starting the driver", error);
  }
  SERVICE_STATUS status{};
  if (!wait_for_state(service.get(), SERVICE_RUNNING, status)) {
    return fail(fmt::format("the driver did not start (state {}, exit code {}): see the system event log",
                            status.dwCurrentState, status.dwWin32ExitCode));
  }
  fmt::print("procsentry: the driver is running\n");
  return 0;
}

// Stops a running driver; `quiet` says nothing when it was not running.
int stop(SC_HANDLE service, bool quiet) {
  SERVICE_STATUS status{};
  if (!ControlService(service, SERVICE_CONTROL_STOP, &status)) {
    DWORD error = GetLastError();
    if (error == ERROR_SERVICE_NOT_ACTIVE) {
      if (!quiet) fmt::print("procsentry: the driver is not running\n");
      return 0;
    }
    return fail_with("stopping the driver", error);
  }
  if (!wait_for_state(service, SERVICE_STOPPED, status)) {
    return fail(
        fmt::format("the driver did not stop within {} s (state {}): close every procsentry.exe that has it open, then "
                    "procsentry.exe stop again",
                    kStateDeadlineMs / 1000, status.dwCurrentState));
  }
  fmt::print("procsentry: the driver stopped\n");
  return 0;
}

int stop() {
  Handle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return fail_with("opening the Service Control Manager", GetLastError());
  Handle service(OpenServiceW(scm.get(), kServiceName, SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!service) return fail_with("opening the driver's service", GetLastError());
  return stop(service.get(), false);
}

// Stops the driver first if it runs: a service marked for deletion lingers until it stops.
int uninstall() {
  Handle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return fail_with("opening the Service Control Manager", GetLastError());
  Handle service(OpenServiceW(scm.get(), kServiceName, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
  if (!service) return fail_with("opening the driver's service", GetLastError());
  if (int stopped = stop(service.get(), true); stopped != 0) return stopped;
  if (!DeleteService(service.get())) return fail_with("uninstalling the driver", GetLastError());
  fmt::print("procsentry: uninstalled the driver\n");
  return 0;
}

int usage(const std::string& problem) {
  fmt::print(stderr,
             "procsentry: {}\nusage: procsentry.exe install [C:\\path\\procsentry.sys] | uninstall | start | stop\n",
             problem);
  return 2;
}

}  // namespace

bool is_service_command(int argc, char** argv) {
  if (argc < 2) return false;
  for (const char* command : {"install", "uninstall", "start", "stop"}) {
    if (std::strcmp(argv[1], command) == 0) return true;
  }
  return false;
}

int run_service_command(int argc, char** argv) {
  const std::string command = argv[1];
  const int most = command == "install" ? 3 : 2;
  if (argc > most)
    return usage(fmt::format("{} takes {}", command, most == 3 ? "at most the driver's path" : "no argument"));
  if (command == "install") return install(argc == 3 ? widen(argv[2]) : std::wstring());
  if (command == "uninstall") return uninstall();
  if (command == "start") return start();
  return stop();
}

}  // namespace procsentry
