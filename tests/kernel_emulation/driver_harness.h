// Drives procsentry's driver inside the kernel emulation: load, a reader client on the IOCTL
// path, synthetic processes with varied image paths and command lines.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kernel_emulation/emulation.h"

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path);

namespace procsentry::driver_test {

constexpr ULONG kDriverTag = 'P' | ('S' << 8) | ('s' << 16) | (static_cast<ULONG>('r') << 24);

// One synthetic process: what Windows would hand the callback. Found by
// PsLookupProcessByProcessId while it lives; its creation time is eprocess.create_time.
struct FakeProcess {
  _EPROCESS eprocess;
  ULONG pid = 0;
  ULONG ppid = 0;
  std::optional<std::u16string> image;
  std::optional<std::u16string> command_line;
  UNICODE_STRING image_us{};
  UNICODE_STRING command_us{};
  PS_CREATE_NOTIFY_INFO info{};

  FakeProcess(ULONG pid, ULONG ppid, std::optional<std::u16string> image, std::optional<std::u16string> command_line,
              NTSTATUS exit_status);
  ~FakeProcess() { kemu::remove_process(handle(), &eprocess); }
  FakeProcess(const FakeProcess&) = delete;
  FakeProcess& operator=(const FakeProcess&) = delete;
  bool create() { return kemu::notify_create(&eprocess, handle(), &info); }
  bool exit() { return kemu::notify_exit(&eprocess, handle(), info.IsSubsystemProcess != 0); }
  HANDLE handle() const { return reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(pid)); }
};

// Varied inputs: absent, empty, 32 KiB and non-ASCII image paths and command lines.
std::optional<std::u16string> image_for(std::size_t i);
std::optional<std::u16string> command_line_for(std::size_t i);
std::string utf8(const std::u16string& s);

// kemu::send, bounded: a dispatch that does not return within `limit` (the driver spinning on
// a record no read can take) ends the test binary with a line naming it, since the thread
// stuck in the driver can be neither joined nor cancelled.
NTSTATUS send_bounded(PDRIVER_OBJECT driver, kemu::Request* request, int limit_s = 60);

// The client's PS_IOCTL_VERSION on its open (as DeviceSource::open sends it): the driver's
// reads work on that open only after `version` matched its own.
NTSTATUS say_version(PDRIVER_OBJECT driver, std::uint32_t version);

struct Received {
  std::size_t creates = 0;
  std::size_t exits = 0;
  bool exit_before_create = false;
  std::optional<std::string> image;
  std::optional<std::string> command_line;
  std::uint32_t exit_code = 0;
};

// A client thread reading through the pended-IOCTL path and decoding every record.
class Reader {
 public:
  explicit Reader(PDRIVER_OBJECT driver) : driver_(driver) {}
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Reads until nothing is pending (for a reader started after the fact).
  void drain_now();

  std::atomic<std::size_t> records{0};
  std::map<std::uint32_t, Received> by_pid;  // read after stop()
  std::map<std::uint32_t, std::uint64_t> lost_by_cause;
  std::size_t decode_errors = 0;
  std::size_t nonzero_reserved = 0;

 private:
  void run();
  bool read_once(int wait_ms);
  void take(const UCHAR* bytes, ULONG_PTR length);
  PDRIVER_OBJECT driver_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace procsentry::driver_test
