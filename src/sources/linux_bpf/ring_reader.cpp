#include "sources/linux_bpf/ring_reader.h"

#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace procsentry {
namespace {

// include/uapi/linux/bpf.h: the record header's length word.
constexpr std::uint32_t kBusyBit = 1u << 31;
constexpr std::uint32_t kDiscardBit = 1u << 30;
constexpr std::uint64_t kHeaderBytes = 8;

std::uint64_t load_acquire(const std::uint64_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
std::uint32_t load_acquire(const std::uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

Error map_error(const char* what) {
  return Error{std::string("cannot map the ring buffer's ") + what + ": " + std::strerror(errno)};
}

}  // namespace

int consume_ring(const RingView& ring, std::vector<std::uint8_t>& wrapped, OnRingRecord on_record, void* ctx) {
  const std::uint64_t mask = ring.size - 1;
  std::uint64_t consumer = load_acquire(ring.consumer_pos);
  int delivered = 0;
  for (;;) {
    const std::uint64_t producer = load_acquire(ring.producer_pos);
    if (consumer >= producer) return delivered;
    while (consumer < producer) {
      // Records are 8-byte aligned and the size a page multiple: a header never wraps.
      const std::uint8_t* header = ring.data + (consumer & mask);
      const std::uint32_t length_word = load_acquire(reinterpret_cast<const std::uint32_t*>(header));
      if ((length_word & kBusyBit) != 0) return delivered;  // reserved, not yet committed
      const std::uint64_t length = length_word & ~(kBusyBit | kDiscardBit);
      if ((length_word & kDiscardBit) == 0) {
        const std::uint64_t start = (consumer + kHeaderBytes) & mask;
        std::span<const std::uint8_t> record(ring.data + start, length);
        if (start + length > ring.size) {
          const std::uint64_t first = ring.size - start;
          wrapped.resize(length);
          std::memcpy(wrapped.data(), ring.data + start, first);
          std::memcpy(wrapped.data() + first, ring.data, length - first);
          record = std::span<const std::uint8_t>(wrapped.data(), length);
        }
        on_record(ctx, record);
        ++delivered;
      }
      consumer += (length + kHeaderBytes + 7) & ~std::uint64_t{7};
      // Released only after the record was read: the kernel may overwrite it from then on.
      __atomic_store_n(ring.consumer_pos, consumer, __ATOMIC_RELEASE);
    }
  }
}

Result<RingReader> RingReader::open(int map_fd, std::uint64_t size) {
  RingReader reader;
  reader.page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  reader.view_.size = size;
  void* consumer = mmap(nullptr, reader.page_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (consumer == MAP_FAILED) return map_error("consumer page");
  reader.view_.consumer_pos = static_cast<std::uint64_t*>(consumer);
  // The producer page and the data, once (the kernel allows a mapping shorter than its two
  // copies: only the offset range is checked).
  void* producer = mmap(nullptr, reader.page_ + size, PROT_READ, MAP_SHARED, map_fd, static_cast<off_t>(reader.page_));
  if (producer == MAP_FAILED) return map_error("data pages");
  reader.view_.producer_pos = static_cast<const std::uint64_t*>(producer);
  reader.view_.data = static_cast<const std::uint8_t*>(producer) + reader.page_;
  reader.epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (reader.epoll_fd_ < 0) return map_error("wakeups (epoll)");
  epoll_event event{};
  event.events = EPOLLIN;
  if (epoll_ctl(reader.epoll_fd_, EPOLL_CTL_ADD, map_fd, &event) != 0) return map_error("wakeups (epoll)");
  return reader;
}

RingReader::RingReader(RingReader&& other) noexcept
    : epoll_fd_(std::exchange(other.epoll_fd_, -1)),
      page_(other.page_),
      view_(std::exchange(other.view_, RingView{})),
      wrapped_(std::move(other.wrapped_)) {}

RingReader::~RingReader() {
  if (view_.consumer_pos != nullptr) munmap(view_.consumer_pos, page_);
  if (view_.producer_pos != nullptr) munmap(const_cast<std::uint64_t*>(view_.producer_pos), page_ + view_.size);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

int RingReader::poll(int timeout_ms, OnRecord on_record, void* ctx) {
  epoll_event event{};
  if (epoll_wait(epoll_fd_, &event, 1, timeout_ms) < 0) return -errno;
  return consume(on_record, ctx);
}

int RingReader::consume(OnRecord on_record, void* ctx) { return consume_ring(view_, wrapped_, on_record, ctx); }

std::uint64_t RingReader::used() const {
  const std::uint64_t consumer = load_acquire(view_.consumer_pos);
  const std::uint64_t producer = load_acquire(view_.producer_pos);
  return producer - consumer;
}

}  // namespace procsentry
