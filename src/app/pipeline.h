// decode -> enrich (process table, names, cgroup, hash) -> filter -> sink, for each raw
// record a source delivers. Runs on one thread; the hasher's worker is behind ExecHasher.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/cgroups.h"
#include "core/decode.h"
#include "core/event_redaction.h"
#include "core/event_rules.h"
#include "core/exec_hasher.h"
#include "core/filter.h"
#include "core/process_table.h"
#include "core/user_names.h"
#include "sinks/fd_output/fd_output.h"
#include "sinks/sink.h"
#include "sources/record_handler.h"

namespace procsentry {

struct PipelineStats {
  std::array<std::uint64_t, kEventKindSlots> by_kind{};  // index: EventKind
  std::uint64_t lost_records = 0;                        // sum of the counts in lost events
  std::uint64_t decode_errors = 0;
  std::uint64_t capture_headers = 0;                     // records that named the clock and boot of those after them
  std::uint64_t excluded_by_rules = 0;                   // events the configuration's rules left out
  std::uint64_t redacted = 0;                            // events written with a secret masked
  std::array<std::uint64_t, kEventKindSlots> emitted{};  // index: EventKind; what the outputs got
  std::array<std::uint64_t, kLostCauseSlots> kernel_lost{};  // index: lost cause; the lost events' counts
  std::uint64_t events() const;
};

// What turns a decoded record into an event with context. cgroups and hasher are optional.
struct Enrichment {
  ProcessTable& table;
  UserNames& users;
  CgroupResolver* cgroups = nullptr;
  ExecHasher* hasher = nullptr;
};

class EventPipeline final : public RecordHandler {
 public:
  EventPipeline(Decoder& decoder, Enrichment enrichment, const Filter& filter, Sink& sink, std::FILE* diagnostics);
  void on_record(std::span<const std::uint8_t> record) override;
  void on_batch_end() override;
  // Between polls: writes the hashes the worker finished (as `hash` events).
  void on_idle();
  // When the stream has ended: as on_idle, after waiting (a few seconds at most) for the files
  // still being hashed, so that every "pending" gets its `hash` event; says how many did not.
  void on_end();
  const PipelineStats& stats() const { return stats_; }
  // Also keep every raw record (for --replay); a write failure is reported once and only
  // stops the saving, never the stream.
  void save_raw_to(FdOutput* raw) { raw_ = raw; }
  // Replay: the first record should be a capture header; if not, say once that times are
  // mapped onto this boot's clock (a capture made before headers existed).
  void expect_capture_header() { expect_capture_ = true; }
  // The configuration's include/exclude rules, after the command line's filter (nullptr: none).
  void use_rules(EventRules* rules) { rules_ = rules; }
  // Masks secrets in the events the rules admit, before any output sees them (nullptr: none).
  void use_redaction(EventRedaction* redaction) { redaction_ = redaction; }
  // The machine and boot every event's seq belongs to (platform/machine.h). A replay's boot id
  // comes from the capture's header records instead, as they arrive.
  void use_origin(std::string host_id, std::string boot_id);
  // A heartbeat event every `interval` (0: none), with the counts so far; `drops` fills in each
  // output's drops (on the event thread).
  using OutputDropsReport = std::function<void(std::vector<HeartbeatCounts::OutputDrops>&)>;
  void use_heartbeat(std::chrono::seconds interval, OutputDropsReport drops);
  // The seq the last event written carried (0: none yet).
  std::uint64_t last_seq() const { return seq_; }

 private:
  void on_capture_header(std::span<const std::uint8_t> record);
  void report_decode_error(const std::string& message);
  // Numbers the event and hands it to the sink: the one place an event leaves the pipeline.
  void emit(Event& event);
  void heartbeat_if_due();

  Decoder& decoder_;
  Enrichment enrich_;
  Event hash_event_;
  std::chrono::steady_clock::time_point last_prune_{};
  const Filter& filter_;
  Sink& sink_;
  std::FILE* diagnostics_;
  FdOutput* raw_ = nullptr;
  EventRules* rules_ = nullptr;
  EventRedaction* redaction_ = nullptr;
  bool expect_capture_ = false;
  PipelineStats stats_;
  std::uint64_t seq_ = 0;
  std::string host_id_;
  std::string boot_id_;
  std::chrono::seconds heartbeat_interval_{0};
  std::chrono::steady_clock::time_point next_heartbeat_{};
  OutputDropsReport output_drops_;
  HeartbeatCounts heartbeat_counts_;
  Event heartbeat_event_;
};

}  // namespace procsentry
