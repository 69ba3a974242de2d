// The Windows client's read-and-cancel logic (src/windows/client/pending_read.cpp), built by
// mingw and run under Wine by tests/unit/windows_client_test.cpp. The driver cannot run under
// Wine (no PsSetCreateProcessNotifyRoutineEx), so an overlapped named pipe stands in for the
// device: a read that pends until data comes, like the driver's pended IOCTL. Prints one line
// per check ("ok NAME" or "FAIL NAME: why"); exits 1 if any failed.
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "pending_read.h"

namespace {

using procsentry::PendingRead;
using Clock = std::chrono::steady_clock;

int g_failures = 0;

void check(bool ok, const char* name, const std::string& why = {}) {
  std::printf(ok ? "ok %s\n" : "FAIL %s: %s\n", name, why.c_str());
  std::fflush(stdout);
  if (!ok) ++g_failures;
}

struct Pipe {
  HANDLE server = INVALID_HANDLE_VALUE;
  HANDLE client = INVALID_HANDLE_VALUE;
  explicit Pipe(int n) {
    std::string name =
        "\\\\.\\pipe\\procsentry-pending-read-" + std::to_string(GetCurrentProcessId()) + "-" + std::to_string(n);
    server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_OUTBOUND, PIPE_TYPE_BYTE, 1, 4096, 4096, 0, nullptr);
    client = CreateFileA(name.c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
  }
  ~Pipe() {
    CloseHandle(client);
    CloseHandle(server);
  }
  void write(const char* text) {
    DWORD written = 0;
    WriteFile(server, text, static_cast<DWORD>(std::strlen(text)), &written, nullptr);
  }
};

PendingRead* g_ctrl_c_target = nullptr;

BOOL WINAPI on_ctrl_c(DWORD) {
  if (g_ctrl_c_target != nullptr) g_ctrl_c_target->cancel();
  return TRUE;
}

}  // namespace

int main(int argc, char** argv) {
  const bool console_event = argc > 1 && std::string(argv[1]) == "--ctrl-c";
  char buffer[64];
  auto start = [&](HANDLE h, OVERLAPPED* o) { return ReadFile(h, buffer, sizeof(buffer), nullptr, o); };
  auto events = [] {
    return std::make_pair(CreateEventA(nullptr, TRUE, FALSE, nullptr), CreateEventA(nullptr, TRUE, FALSE, nullptr));
  };

  {
    Pipe pipe(1);
    auto [done, cancel] = events();
    PendingRead read(pipe.client, done, cancel);
    PendingRead::Wait w = read.wait(start, 50);
    check(w.outcome == PendingRead::Outcome::timed_out, "a read with nothing to take times out and stays pending");
    pipe.write("abc");
    w = read.wait(start, 10'000);
    check(w.outcome == PendingRead::Outcome::completed && w.bytes == 3 && std::string(buffer, 3) == "abc",
          "the same read completes when data comes", "bytes " + std::to_string(w.bytes));
  }
  {
    Pipe pipe(2);
    auto [done, cancel] = events();
    PendingRead read(pipe.client, done, cancel);
    auto began = Clock::now();
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the wait begin (either order must work)
      read.cancel();
    });
    PendingRead::Wait w = read.wait(start, INFINITE);
    canceller.join();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
    check(w.outcome == PendingRead::Outcome::cancelled && took < 5'000,
          "cancel() from another thread ends a read pending without limit", std::to_string(took) + " ms");
    w = read.wait(start, INFINITE);
    check(w.outcome == PendingRead::Outcome::cancelled, "after cancel() no new read is issued");
  }
  {
    Pipe pipe(3);
    auto [done, cancel] = events();
    PendingRead read(pipe.client, done, cancel);
    read.cancel();  // the Ctrl-C came before the read was issued
    PendingRead::Wait w = read.wait(start, INFINITE);
    check(w.outcome == PendingRead::Outcome::cancelled, "a cancel before the read is not missed");
  }
  {
    Pipe pipe(4);
    auto [done, cancel] = events();
    PendingRead read(pipe.client, done, cancel);
    (void)read.wait(start, 0);  // pending
    pipe.write("xy");
    read.cancel();  // data and cancel both came: the data is not thrown away
    PendingRead::Wait w = read.wait(start, INFINITE);
    check(w.outcome == PendingRead::Outcome::completed ? w.bytes == 2 : w.outcome == PendingRead::Outcome::cancelled,
          "a read that completed before the cancel still delivers");
  }
  if (console_event) {
    Pipe pipe(5);
    auto [done, cancel] = events();
    PendingRead read(pipe.client, done, cancel);
    g_ctrl_c_target = &read;
    SetConsoleCtrlHandler(on_ctrl_c, TRUE);
    std::thread sender([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0);
    });
    auto began = Clock::now();
    PendingRead::Wait w = read.wait(start, 10'000);
    sender.join();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
    check(w.outcome == PendingRead::Outcome::cancelled, "Ctrl-C (a console control event) ends the pending read",
          std::to_string(took) + " ms");
    g_ctrl_c_target = nullptr;
  }
  return g_failures == 0 ? 0 : 1;
}
