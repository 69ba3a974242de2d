#include "sources/linux_bpf/ring_buffer_source.h"

#include <bpf/libbpf.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <string>

#include "procsentry/wire/wire.h"
#include "procsentry_bpf.skel.h"
#include "sources/linux_bpf/kernel_probe.h"
#include "sources/linux_bpf/libbpf_log.h"

namespace procsentry {
namespace {

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

Error load_error(const char* what, int err) {
  std::string message = std::string("cannot ") + what + ": " + errno_text(err);
  if (err == -EACCES && geteuid() == 0) {
    // As root, EACCES from a load is the verifier rejecting a program, not a missing privilege.
    message += " (the kernel's verifier refused a program on this kernel: please report it with the --verbose output)";
  } else if (err == -EPERM || err == -EACCES) {
    message += " (the kernel refused: check that procsentry runs as root and that no security policy blocks BPF)";
  }
  message += "; run with --verbose for the kernel's explanation";
  return Error{message};
}

}  // namespace

void RingBufferSource::SkeletonDeleter::operator()(procsentry_bpf* skel) const { procsentry_bpf__destroy(skel); }
void RingBufferSource::RingDeleter::operator()(ring_buffer* ring) const { ring_buffer__free(ring); }

RingBufferSource::~RingBufferSource() {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  if (consumer_page_ != nullptr) munmap(consumer_page_, page);
  if (producer_page_ != nullptr) munmap(producer_page_, page);
  ring_.reset();  // before the skeleton: the ring buffer maps the skeleton's map
  skel_.reset();
}

Result<std::unique_ptr<RingBufferSource>> RingBufferSource::open(const SensorOptions& options) {
  capture_libbpf_log(options.verbose);
  auto features = probe_kernel();
  if (!features) return features.error();

  std::unique_ptr<RingBufferSource> source(new RingBufferSource());
  source->skel_.reset(procsentry_bpf__open());
  if (!source->skel_) return load_error("open the BPF programs", -errno);
  procsentry_bpf* skel = source->skel_.get();

  std::uint32_t cap = std::bit_ceil(std::clamp(options.argv_cap, PS_ARGV_MIN_CAP, PS_ARGV_MAX_CAP));
  skel->rodata->cfg_argv_cap = cap;
  std::uint32_t ring = std::bit_ceil(std::max(options.ring_bytes, 8 * cap));
  skel->rodata->cfg_wakeup_bytes = ring / 4;
  if (int err = bpf_map__set_max_entries(skel->maps.events, ring); err != 0) {
    return load_error("size the ring buffer", err);
  }
  bpf_program__set_autoload(skel->progs.ps_sched_process_exit, features->exit_has_group_dead);
  bpf_program__set_autoload(skel->progs.ps_sched_process_exit_live, !features->exit_has_group_dead);
  bpf_program__set_autoload(skel->progs.ps_sys_exit_execve, options.exec_failed);
  // One exec program per loop style; the other is never loaded (its bpf_loop callback
  // would make an older kernel refuse the whole object).
  bpf_program* exec =
      features->has_bpf_loop ? skel->progs.ps_sched_process_exec : skel->progs.ps_sched_process_exec_bounded;
  bpf_link** exec_link =
      features->has_bpf_loop ? &skel->links.ps_sched_process_exec : &skel->links.ps_sched_process_exec_bounded;
  bpf_program__set_autoload(skel->progs.ps_sched_process_exec, features->has_bpf_loop);
  bpf_program__set_autoload(skel->progs.ps_sched_process_exec_bounded, !features->has_bpf_loop);
  source->bounded_loops_ = !features->has_bpf_loop;

  if (int err = procsentry_bpf__load(skel); err != 0) return load_error("load the BPF programs", err);
  // Loading parsed the kernel's BTF (megabytes of small allocations, all freed): give the
  // memory back before mapping the ring, or both count in the peak RSS.
  malloc_trim(0);

  bpf_program* required[] = {
      exec, skel->progs.ps_sched_process_fork,
      features->exit_has_group_dead ? skel->progs.ps_sched_process_exit : skel->progs.ps_sched_process_exit_live};
  bpf_link** links[] = {
      exec_link, &skel->links.ps_sched_process_fork,
      features->exit_has_group_dead ? &skel->links.ps_sched_process_exit : &skel->links.ps_sched_process_exit_live};
  for (std::size_t i = 0; i < std::size(required); ++i) {
    *links[i] = bpf_program__attach(required[i]);
    if (*links[i] == nullptr) {
      return load_error((std::string("attach ") + bpf_program__name(required[i])).c_str(), -errno);
    }
  }
  if (options.exec_failed) {
    skel->links.ps_sys_exit_execve = bpf_program__attach(skel->progs.ps_sys_exit_execve);
    source->exec_failed_attached_ = skel->links.ps_sys_exit_execve != nullptr;
  }

  source->ring_.reset(
      ring_buffer__new(bpf_map__fd(skel->maps.events), &RingBufferSource::on_sample, source.get(), nullptr));
  if (!source->ring_) return load_error("map the ring buffer", -errno);
  source->map_positions(bpf_map__fd(skel->maps.events), bpf_map__max_entries(skel->maps.events));
  return source;
}

int RingBufferSource::on_sample(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<RingBufferSource*>(ctx);
  std::span<const std::uint8_t> record(static_cast<const std::uint8_t*>(data), size);
  // A reservation is sized for the worst case; the record says how much of it was written.
  // A size that does not fit is left for the decoder to reject.
  ps_header header{};
  if (size >= sizeof(header)) {
    std::memcpy(&header, data, sizeof(header));
    if (header.size <= size) record = record.first(header.size);
  }
  ps_lost lost{};
  if (header.type == PS_REC_LOST && record.size() == sizeof(lost)) {
    std::memcpy(&lost, record.data(), sizeof(lost));
    if (!self->lost_to_delta(lost)) return 0;  // a total already reported
    record = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&lost), sizeof(lost));
  }
  self->handler_->on_record(record);
  return 0;
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
  int n = ring_buffer__poll(ring_.get(), timeout_ms);
  if (n >= 0 || n == -EINTR) {
    int more = ring_buffer__consume(ring_.get());
    n = (n < 0 ? 0 : n) + (more > 0 ? more : 0);
  }
  handler_ = nullptr;
  if (n < 0) return Error{"reading the ring buffer failed: " + errno_text(n)};
  if (n > 0) handler.on_batch_end();
  return n;
}

// A BPF ring buffer map's first page holds the consumer position, its second the producer
// position (kernel/bpf/ringbuf.c); both may be mapped read-only by anyone holding the map.
void RingBufferSource::map_positions(int map_fd, std::uint64_t size) {
  const auto page = static_cast<long>(sysconf(_SC_PAGESIZE));
  void* consumer = mmap(nullptr, static_cast<std::size_t>(page), PROT_READ, MAP_SHARED, map_fd, 0);
  void* producer = mmap(nullptr, static_cast<std::size_t>(page), PROT_READ, MAP_SHARED, map_fd, page);
  if (consumer != MAP_FAILED) consumer_page_ = consumer;
  if (producer != MAP_FAILED) producer_page_ = producer;
  ring_size_ = size;
}

std::optional<RingBufferSource::Fill> RingBufferSource::ring_fill() const {
  if (consumer_page_ == nullptr || producer_page_ == nullptr) return std::nullopt;
  // The kernel and libbpf update them with release stores; an acquire load pairs with those.
  const auto consumer = __atomic_load_n(static_cast<const unsigned long*>(consumer_page_), __ATOMIC_ACQUIRE);
  const auto producer = __atomic_load_n(static_cast<const unsigned long*>(producer_page_), __ATOMIC_ACQUIRE);
  return Fill{std::min<std::uint64_t>(producer - consumer, ring_size_), ring_size_};
}

SensorDrops RingBufferSource::drops() const {
  SensorDrops drops;
  for (std::size_t i = 0; i < drops.by_cause.size(); ++i) drops.by_cause[i] = skel_->bss->lost_total[i];
  return drops;
}

}  // namespace procsentry
