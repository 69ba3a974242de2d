// The Windows client's path for what the emulated driver returns: each read split by
// deliver_read (src/windows/client) into the same EventPipeline procsentry.exe runs, with the
// Windows process-uid scheme (100 ns ticks), and every event the outputs would get kept.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "app/pipeline.h"
#include "driver_harness.h"
#include "kernel_emulation/emulation.h"
#include "procsentry/wire/windows_device.h"
#include "read_batch.h"

namespace procsentry::driver_test {

struct SeenEvent {
  EventKind kind;
  std::uint32_t pid = 0;
  std::uint32_t ppid = 0;
  std::string process_uid;
  std::string parent_uid;
  std::uint64_t lost_count = 0;
  std::string image;
  bool image_truncated = false;
  std::uint32_t image_original_length = 0;
  std::string command_line;
  bool command_line_truncated = false;
  std::uint32_t command_line_original_length = 0;
  std::string parent_image;
  std::string parent_command_line;
  std::string user_sid;
  std::optional<std::uint32_t> integrity_rid;
  std::optional<bool> elevated;
  std::uint8_t elevation_type = 0;
  std::optional<std::uint64_t> logon_id;
  std::uint8_t token_type = 0;
  std::uint32_t session_id = 0;
  bool subsystem_process = false;
};

class ClientPath {
 public:
  // Reads until the driver has nothing more (a read that pends is cancelled): true if any.
  bool read_all(PDRIVER_OBJECT driver) {
    bool any = false;
    for (;;) {
      kemu::Request* r = kemu::new_read(PS_WINDOWS_READ_MIN);
      NTSTATUS status = send_bounded(driver, r);
      if (status == STATUS_PENDING) {
        kemu::cancel(r);
        kemu::wait(r, 10'000);
      }
      const bool got = kemu::completions(r) == 1 && r->irp.IoStatus.Status == STATUS_SUCCESS;
      if (got) deliver_read({r->buffer.data(), r->irp.IoStatus.Information}, pipeline);
      kemu::free_request(r);
      if (!got) return any;
      any = true;
    }
  }
  std::vector<SeenEvent> of(std::uint32_t pid) const {
    std::vector<SeenEvent> out;
    for (const SeenEvent& e : sink.events) {
      if (e.pid == pid) out.push_back(e);
    }
    return out;
  }
  const std::vector<SeenEvent>& events() const { return sink.events; }
  std::uint64_t decode_errors() const { return pipeline.stats().decode_errors; }

  static constexpr const char* kBootId = "0b00b1e5";
  ProcessUidScheme scheme{kBootId, 100};  // as platform/windows/machine.cpp's

 private:
  class NoUsers final : public UserDatabase {
   public:
    std::string user_name(std::uint32_t) override { return {}; }
    std::string group_name(std::uint32_t) override { return {}; }
  };
  class KeepingSink final : public Sink {
   public:
    void write(const Event& e) override {
      events.push_back({e.kind,
                        e.task.pid,
                        e.task.ppid,
                        std::string(e.process_uid.view()),
                        std::string(e.parent_uid.view()),
                        e.lost_count,
                        std::string(e.image.bytes),
                        e.image.truncated,
                        e.image.original_length,
                        std::string(e.command_line.bytes),
                        e.command_line.truncated,
                        e.command_line.original_length,
                        std::string(e.parent_image.bytes),
                        std::string(e.parent_argv_raw.bytes),
                        std::string(e.token.user_sid),
                        e.token.integrity_rid,
                        e.token.elevated,
                        e.token.elevation_type,
                        e.token.logon_id,
                        e.token.token_type,
                        e.session_id,
                        e.subsystem_process});
    }
    void flush() override {}
    std::vector<SeenEvent> events;
  };
  NoUsers database;
  UserNames users{database};
  ProcessTable table{scheme, ProcessTableOptions{}};
  Decoder decoder{ClockMapping{}};
  Filter filter{FilterOptions{}};
  KeepingSink sink;
  EventPipeline pipeline{decoder, Enrichment{table, users}, filter, sink, stderr};
};

}  // namespace procsentry::driver_test
