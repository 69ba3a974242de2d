#include "app/pipeline.h"

#include <fmt/core.h>

#include <chrono>
#include <cstring>
#include <utility>

#include "core/capture_header.h"

#include "core/clock.h"

namespace procsentry {
namespace {
// Enough to show what is wrong without flooding the terminal if a sensor goes bad.
constexpr std::uint64_t kDecodeErrorsShown = 5;
constexpr std::chrono::seconds kPruneInterval{5};
// At the end of the stream, how long the files still being hashed may delay the exit.
constexpr std::chrono::seconds kHashDrainTimeout{5};
}  // namespace

std::uint64_t PipelineStats::events() const {
  std::uint64_t total = 0;
  for (std::uint64_t n : by_kind) total += n;
  return total;
}

EventPipeline::EventPipeline(Decoder& decoder, Enrichment enrichment, const Filter& filter, Sink& sink,
                             std::FILE* diagnostics)
    : decoder_(decoder), enrich_(enrichment), filter_(filter), sink_(sink), diagnostics_(diagnostics) {}

void EventPipeline::on_record(std::span<const std::uint8_t> record) {
  if (raw_ != nullptr) {
    raw_->buffer().append(reinterpret_cast<const char*>(record.data()), record.size());
    raw_->end_event();
  }
  const bool capture = is_capture_record(record);
  if (std::exchange(expect_capture_, false) && !capture) {
    fmt::print(diagnostics_,
               "procsentry: this capture has no header (made before procsentry 0.2): its times are shown on this "
               "boot's clock, not the one it was recorded on\n");
  }
  if (capture) return on_capture_header(record);
  auto decoded = decoder_.decode(record);
  if (!decoded) return report_decode_error(decoded.error().message);
  Event& event = **decoded;
  if (!enrich_.table.enrich(event)) return;
  event.user = event.kind == EventKind::create ? enrich_.users.account(event.token.user_sid)
                                               : enrich_.users.name(event.task.uid);
  if (event.kind == EventKind::exec) {
    event.group = enrich_.users.group(event.task.gid);
    if (enrich_.cgroups != nullptr) event.cgroup = enrich_.cgroups->path(event.cgroup_id);
    event.container_id = container_id_from_cgroup(event.cgroup);
  }
  stats_.by_kind[static_cast<std::size_t>(event.kind)]++;
  if (event.kind == EventKind::lost) {
    stats_.lost_records += event.lost_count;
    stats_.kernel_lost[event.lost_cause < kLostCauseSlots ? event.lost_cause : 0] += event.lost_count;
    // The lost records may have held exits. Pruning reads /proc for every process, so it
    // runs at most once per kPruneInterval however many lost records an overload brings.
    auto now = std::chrono::steady_clock::now();
    if (now - last_prune_ >= kPruneInterval) {
      enrich_.table.prune_vanished();
      last_prune_ = now;
    }
  }
  if (filter_.matches(event)) {
    if (rules_ == nullptr || rules_->admit(event)) {
      if (redaction_ != nullptr && redaction_->redact(event)) stats_.redacted++;
      const bool runs_an_image = event.kind == EventKind::exec || event.kind == EventKind::create;
      if (runs_an_image && enrich_.hasher != nullptr) enrich_.hasher->describe(event);
      emit(event);
    } else {
      stats_.excluded_by_rules++;
    }
  }
  enrich_.table.apply(event);
}

void EventPipeline::on_capture_header(std::span<const std::uint8_t> record) {
  auto header = decode_capture_header(record);
  if (!header) return report_decode_error(header.error().message);
  stats_.capture_headers++;
  decoder_.use_clock(header->clock);
  boot_id_ = header->boot_id;
  enrich_.table.use_uid_scheme(ProcessUidScheme(header->boot_id, header->uid_tick_ns));
}

void EventPipeline::use_origin(std::string host_id, std::string boot_id) {
  host_id_ = std::move(host_id);
  boot_id_ = std::move(boot_id);
}

// Numbered only here, after the filter and the rules kept the event: what they leave out
// makes no gap, so a gap at the receiver is an event lost after procsentry saw it.
void EventPipeline::emit(Event& event) {
  stats_.emitted[static_cast<std::size_t>(event.kind)]++;
  event.seq = ++seq_;
  event.host_id = host_id_;
  event.boot_id = boot_id_;
  sink_.write(event);
}

void EventPipeline::use_heartbeat(std::chrono::seconds interval, OutputDropsReport drops) {
  heartbeat_interval_ = interval;
  output_drops_ = std::move(drops);
  heartbeat_counts_.interval_s = static_cast<std::uint32_t>(interval.count());
  next_heartbeat_ = std::chrono::steady_clock::now() + interval;
}

// Between polls (at most kPollTimeoutMs apart, app/run_loop.cpp): one clock read when not due.
void EventPipeline::heartbeat_if_due() {
  if (heartbeat_interval_.count() == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_heartbeat_) return;
  next_heartbeat_ = now + heartbeat_interval_;
  HeartbeatCounts& h = heartbeat_counts_;
  h.emitted = stats_.emitted;
  h.kernel_lost = stats_.kernel_lost;
  if (output_drops_) output_drops_(h.dropped);
  Event& e = heartbeat_event_;
  e.reset();
  e.kind = EventKind::heartbeat;
  e.time_ns = ClockMapping::now_epoch_ns();
  e.task.has_uid_and_comm = false;
  e.heartbeat = &h;  // counted in emitted only: by_kind is what the sources delivered
  if (filter_.matches(e)) emit(e);
  sink_.flush();
}

void EventPipeline::report_decode_error(const std::string& message) {
  if (++stats_.decode_errors <= kDecodeErrorsShown) {
    fmt::print(diagnostics_, "procsentry: skipped a malformed record: {}{}\n", message,
               stats_.decode_errors == kDecodeErrorsShown ? " (further ones are only counted)" : "");
  }
}

void EventPipeline::on_idle() {
  heartbeat_if_due();
  if (enrich_.hasher == nullptr) return;
  auto finished = enrich_.hasher->take_finished();
  if (finished.empty()) return;
  for (const FinishedHash& h : finished) {
    Event& e = hash_event_;
    e.reset();
    e.kind = EventKind::hash;
    e.time_ns = ClockMapping::now_epoch_ns();
    e.task.pid = h.pid;
    e.task.has_uid_and_comm = false;  // says nothing of uid or comm
    e.process_uid = h.process_uid;
    e.image = Text{h.image, true, false, static_cast<std::uint32_t>(h.image.size())};
    e.sha256 = h.sha256;
    e.sha256_missing = h.missing;
    stats_.by_kind[static_cast<std::size_t>(e.kind)]++;
    emit(e);
  }
  sink_.flush();
}

void EventPipeline::on_end() {
  if (enrich_.hasher != nullptr) {
    if (std::size_t left = enrich_.hasher->wait_finished(kHashDrainTimeout); left != 0) {
      fmt::print(diagnostics_, "procsentry: {} image hashes were still being computed at the end (not reported)\n",
                 left);
    }
  }
  on_idle();
}

void EventPipeline::on_batch_end() {
  sink_.flush();
  if (raw_ != nullptr) {
    raw_->flush();
    if (raw_->failed()) {
      fmt::print(diagnostics_, "procsentry: stopped saving raw records: {} (the live stream continues)\n",
                 std::strerror(raw_->error()));
      raw_ = nullptr;
    }
  }
}

}  // namespace procsentry
