#include "driver_harness.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/decode.h"
#include "core/utf16.h"
#include "procsentry/wire/windows_device.h"

namespace procsentry::driver_test {

FakeProcess::FakeProcess(ULONG pid_, ULONG ppid_, std::optional<std::u16string> image_,
                         std::optional<std::u16string> command_line_, NTSTATUS exit_status)
    : pid(pid_), ppid(ppid_), image(std::move(image_)), command_line(std::move(command_line_)) {
  eprocess.exit_status = exit_status;
  eprocess.session_id = 1;
  eprocess.create_time = 133000000000000000LL;
  eprocess.token.user = kemu::sid_from_string("S-1-5-18");  // SYSTEM's, as services' children have
  auto to_us = [](std::optional<std::u16string>& s, UNICODE_STRING& us) -> PCUNICODE_STRING {
    if (!s) return nullptr;
    us.Buffer = s->data();
    us.Length = static_cast<USHORT>(s->size() * 2);
    us.MaximumLength = us.Length;
    return &us;
  };
  info.Size = sizeof(info);
  info.FileOpenNameAvailable = (pid % 2) == 0;
  info.ParentProcessId = reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(ppid));
  info.CreatingThreadId.UniqueProcess = info.ParentProcessId;
  info.CreatingThreadId.UniqueThread = reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(ppid + 4));
  info.ImageFileName = to_us(image, image_us);
  info.CommandLine = to_us(command_line, command_us);
  kemu::add_process(handle(), &eprocess);
}

std::optional<std::u16string> image_for(std::size_t i) {
  if (i % 13 == 5) return std::nullopt;  // Windows may give no image name
  if (i % 5 == 0)
    return u"\\??\\C:\\Users\\J\u00f6rg\\\u65e5\u672c\\\U0001F600-" +
           std::u16string(1, static_cast<char16_t>(u'a' + i % 26)) + u".exe";
  return u"\\??\\C:\\Windows\\System32\\proc" + std::u16string(1, static_cast<char16_t>(u'a' + i % 26)) + u".exe";
}

std::optional<std::u16string> command_line_for(std::size_t i) {
  if (i % 7 == 3) return std::nullopt;                          // absent
  if (i % 11 == 4) return std::u16string();                     // present but empty
  if (i % 1000 == 999) return std::u16string(16 * 1024, u'x');  // 32 KiB
  return u"proc.exe --id " + std::u16string(1, static_cast<char16_t>(u'0' + i % 10)) + u" \"C:\\Program Files\\x\"";
}

std::string utf8(const std::u16string& s) {
  return utf16le_to_utf8(std::string_view(reinterpret_cast<const char*>(s.data()), s.size() * 2));
}

NTSTATUS send_bounded(PDRIVER_OBJECT driver, kemu::Request* request, int limit_s) {
  std::atomic<bool> returned{false};
  NTSTATUS status = STATUS_SUCCESS;
  std::thread sender([&] {
    status = kemu::send(driver, request);
    returned = true;
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
  while (!returned && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  if (!returned) {
    std::fprintf(stderr, "FATAL: the read IOCTL did not return from the driver within %d s (a wedged channel)\n",
                 limit_s);
    std::fflush(stderr);
    std::_Exit(1);
  }
  sender.join();
  return status;
}

NTSTATUS say_version(PDRIVER_OBJECT driver, std::uint32_t version) {
  kemu::Request* r = kemu::new_read(sizeof(ps_device_version), sizeof(ps_device_version), PS_IOCTL_VERSION);
  ps_device_version sent{version, 0};
  std::memcpy(r->buffer.data(), &sent, sizeof(sent));
  NTSTATUS status = send_bounded(driver, r);
  kemu::free_request(r);
  return status;
}

bool Reader::read_once(int wait_ms) {
  kemu::Request* request = kemu::new_read(PS_WINDOWS_READ_MIN);
  NTSTATUS status = kemu::send(driver_, request);
  bool got = false;
  if (status == STATUS_PENDING) {
    if (!kemu::wait(request, wait_ms)) {
      kemu::cancel(request);
      kemu::wait(request, 10'000);  // cancelled, or completed by the driver in the race
    }
  }
  if (kemu::completions(request) == 1 && request->irp.IoStatus.Status == STATUS_SUCCESS) {
    take(request->buffer.data(), request->irp.IoStatus.Information);
    got = request->irp.IoStatus.Information > 0;
  }
  kemu::free_request(request);
  return got;
}

void Reader::run() {
  while (!stop_) read_once(20);
  drain_now();
}

void Reader::drain_now() {
  while (read_once(50)) {
  }
}

void Reader::take(const UCHAR* bytes, ULONG_PTR length) {
  static thread_local Decoder decoder(ClockMapping{0});
  std::size_t at = 0;
  while (at + sizeof(ps_header) <= length) {
    ps_header hdr;
    std::memcpy(&hdr, bytes + at, sizeof(hdr));
    if (hdr.size < sizeof(ps_header) || at + hdr.size > length) {
      decode_errors++;
      return;
    }
    if (hdr.reserved0[0] != 0 || hdr.reserved0[1] != 0 || hdr.reserved0[2] != 0) nonzero_reserved++;
    auto event = decoder.decode({bytes + at, hdr.size});
    if (!event) {
      decode_errors++;
    } else {
      Event& e = **event;
      Received& r = by_pid[e.task.pid];
      if (e.kind == EventKind::create) {
        ps_create body;
        std::memcpy(&body, bytes + at, sizeof(body));
        if (body.reserved0 != 0 || body.image.reserved0 != 0 || body.command_line.reserved0 != 0 ||
            body.user_sid.reserved0 != 0) {
          nonzero_reserved++;
        }
        for (UCHAR b : body.reserved1) {
          if (b != 0) nonzero_reserved++;
        }
        r.creates++;
        if (e.image.present) r.image = std::string(e.image.bytes);
        if (e.command_line.present) r.command_line = std::string(e.command_line.bytes);
      } else if (e.kind == EventKind::exit) {
        r.exits++;
        if (r.creates == 0) r.exit_before_create = true;
        r.exit_code = static_cast<std::uint32_t>(e.exit_code.value_or(-1));
      } else if (e.kind == EventKind::lost) {
        by_pid.erase(0);
        lost_by_cause[e.lost_cause] += e.lost_count;
      }
    }
    records++;
    at += hdr.size;
  }
  if (at != length) decode_errors++;  // a partial record: the driver must return whole ones
}

}  // namespace procsentry::driver_test
