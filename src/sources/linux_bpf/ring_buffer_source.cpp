#include "sources/linux_bpf/ring_buffer_source.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "procsentry/wire/wire.h"

namespace procsentry {

RingBufferSource::RingBufferSource(LoadedSensor sensor, RingReader ring)
    : sensor_(std::move(sensor)), ring_(std::move(ring)) {
  // A .bss the kernel cannot map (before 5.5) leaves the totals unknown, not the sensor
  // unusable: drops() then reports none, and every drop still arrives as a lost record.
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t bytes = (sensor_.counters_bytes + page - 1) / page * page;
  void* counters = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, sensor_.counters.get(), 0);
  if (counters != MAP_FAILED) {
    counters_ = counters;
    counters_mapped_ = bytes;
  }
}

RingBufferSource::~RingBufferSource() {
  if (counters_ != nullptr) munmap(const_cast<void*>(counters_), counters_mapped_);
}

Result<std::unique_ptr<RingBufferSource>> RingBufferSource::open(const SensorOptions& options) {
  auto sensor = load_sensor(options);
  if (!sensor) return sensor.error();
  auto ring = RingReader::open(sensor->ring.get(), sensor->ring_bytes);
  if (!ring) return ring.error();
  return std::unique_ptr<RingBufferSource>(new RingBufferSource(std::move(*sensor), std::move(*ring)));
}

void RingBufferSource::on_sample(void* ctx, std::span<const std::uint8_t> data) {
  auto* self = static_cast<RingBufferSource*>(ctx);
  std::span<const std::uint8_t> record = data;
  // A reservation is sized for the worst case; the record says how much of it was written.
  // A size that does not fit is left for the decoder to reject.
  ps_header header{};
  if (data.size() >= sizeof(header)) {
    std::memcpy(&header, data.data(), sizeof(header));
    if (header.size <= data.size()) record = record.first(header.size);
  }
  ps_lost lost{};
  if (header.type == PS_REC_LOST && record.size() == sizeof(lost)) {
    std::memcpy(&lost, record.data(), sizeof(lost));
    if (!self->lost_to_delta(lost)) return;  // a total already reported
    record = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&lost), sizeof(lost));
  }
  self->handler_->on_record(record);
}
bool RingBufferSource::lost_to_delta(ps_lost& lost) {
  if ((lost.lost_flags & PS_LOST_RUNNING_TOTAL) == 0 || lost.cause >= reported_lost_.size()) return true;
  std::uint64_t& reported = reported_lost_[lost.cause];
  if (lost.count <= reported) return false;
  std::uint64_t delta = lost.count - reported;
  reported = lost.count;
  lost.count = delta;
  lost.lost_flags &= ~PS_LOST_RUNNING_TOTAL;
  return true;
}

Result<int> RingBufferSource::poll(int timeout_ms, RecordHandler& handler) {
  handler_ = &handler;
  // The programs wake us only past a fill threshold, so a timed-out wait still consumes:
  // that bounds delivery latency by timeout_ms without one wakeup per event.
  int n = ring_.poll(timeout_ms, &RingBufferSource::on_sample, this);
  if (n == -EINTR) n = ring_.consume(&RingBufferSource::on_sample, this);
  handler_ = nullptr;
  if (n < 0) return Error{std::string("reading the ring buffer failed: ") + std::strerror(-n)};
  if (n > 0) handler.on_batch_end();
  return n;
}

std::optional<RingBufferSource::Fill> RingBufferSource::ring_fill() const {
  return Fill{std::min(ring_.used(), ring_.size()), ring_.size()};
}

SensorDrops RingBufferSource::drops() const {
  SensorDrops drops;
  if (counters_ == nullptr) return drops;
  // Atomic adds in the programs; a relaxed atomic load here reads each whole.
  const auto* totals =
      reinterpret_cast<const std::uint64_t*>(static_cast<const char*>(counters_) + sensor_.lost_total_offset);
  for (std::size_t i = 0; i < drops.by_cause.size(); ++i) {
    drops.by_cause[i] = __atomic_load_n(&totals[i], __ATOMIC_RELAXED);
  }
  return drops;
}

}  // namespace procsentry
