// Reads a BPF ring buffer map with its data pages mapped once.
//
// libbpf's ring_buffer maps the data area twice, back to back, so a record that wraps the
// end reads as one piece. The kernel inserts every page of such a mapping at mmap() time,
// so both copies count in the resident set: 8 MiB for a 4 MiB ring. Mapped once, a record
// that wraps (one in hundreds) is copied into a buffer instead. The protocol is the
// kernel's (Documentation/bpf/ringbuf.rst): an 8-byte header per record whose length word
// carries BUSY and DISCARD bits, positions published with release stores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"

namespace procsentry {

// Called with each committed record, valid only during the call.
using OnRingRecord = void (*)(void* ctx, std::span<const std::uint8_t> record);

// The ring as mapped: the positions (byte counts since creation, only growing) and the data
// once. Apart from RingReader so the protocol can be tested on memory laid out by hand.
struct RingView {
  std::uint64_t* consumer_pos = nullptr;
  const std::uint64_t* producer_pos = nullptr;
  const std::uint8_t* data = nullptr;
  std::uint64_t size = 0;  // a power of two
};

// Delivers every committed record in order and releases its space to the producer. A
// record that wraps the end is joined in `wrapped`. Returns how many were delivered.
int consume_ring(const RingView& ring, std::vector<std::uint8_t>& wrapped, OnRingRecord on_record, void* ctx);

class RingReader {
 public:
  using OnRecord = OnRingRecord;

  // `map_fd` is a BPF_MAP_TYPE_RINGBUF of `size` bytes (a power of two, page multiple).
  static Result<RingReader> open(int map_fd, std::uint64_t size);
  RingReader(RingReader&& other) noexcept;
  RingReader& operator=(RingReader&&) = delete;
  RingReader(const RingReader&) = delete;
  ~RingReader();

  // Waits up to timeout_ms for the kernel's wakeup, then consumes. Returns records delivered,
  // or -errno (-EINTR when a signal ended the wait).
  int poll(int timeout_ms, OnRecord on_record, void* ctx);
  // Delivers every committed record, in order, and frees their space for the kernel.
  int consume(OnRecord on_record, void* ctx);

  // Bytes written and not yet consumed.
  std::uint64_t used() const;
  std::uint64_t size() const { return view_.size; }

 private:
  RingReader() = default;

  int epoll_fd_ = -1;
  std::size_t page_ = 0;
  // Consumer position: page 0, written by us; producer position: page 1, read-only; then
  // the data.
  RingView view_;
  std::vector<std::uint8_t> wrapped_;
};

}  // namespace procsentry
