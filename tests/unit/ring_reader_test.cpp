// The ring buffer reader that maps the data once: the kernel's record protocol on memory laid
// out by hand (busy, discarded and wrapping records), then a real BPF ring buffer filled by
// a real program until records wrap its end.
#include "sources/linux_bpf/ring_reader.h"

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace procsentry {
namespace {

constexpr std::uint32_t kBusy = 1u << 31;
constexpr std::uint32_t kDiscard = 1u << 30;

// A ring in plain memory, written as the kernel writes it.
struct HandRing {
  explicit HandRing(std::uint64_t size) : data(size) {}
  std::uint64_t consumer = 0;
  std::uint64_t producer = 0;
  std::vector<std::uint8_t> data;

  // Appends a record of `payload` at the producer position with the given flag bits.
  std::uint64_t put(const std::string& payload, std::uint32_t flags = 0) {
    const std::uint64_t mask = data.size() - 1;
    const std::uint64_t at = producer;
    std::uint32_t word = static_cast<std::uint32_t>(payload.size()) | flags;
    std::memcpy(&data[at & mask], &word, sizeof(word));
    for (std::size_t i = 0; i < payload.size(); ++i) data[(at + 8 + i) & mask] = static_cast<std::uint8_t>(payload[i]);
    producer += (payload.size() + 8 + 7) & ~std::uint64_t{7};
    return at;
  }
  void set_word(std::uint64_t at, std::uint32_t word) {
    std::memcpy(&data[at & (data.size() - 1)], &word, sizeof(word));
  }
  RingView view() { return RingView{&consumer, &producer, data.data(), data.size()}; }
};

void collect(void* ctx, std::span<const std::uint8_t> record) {
  static_cast<std::vector<std::string>*>(ctx)->emplace_back(record.begin(), record.end());
}

std::vector<std::string> consume_all(HandRing& ring) {
  std::vector<std::string> got;
  std::vector<std::uint8_t> wrapped;
  consume_ring(ring.view(), wrapped, collect, &got);
  return got;
}

TEST(RingReader, DeliversCommittedRecordsInOrderAndReleasesTheirSpace) {
  HandRing ring(4096);
  ring.put("first");
  ring.put("second record");
  EXPECT_EQ(consume_all(ring), (std::vector<std::string>{"first", "second record"}));
  EXPECT_EQ(ring.consumer, ring.producer);
  EXPECT_TRUE(consume_all(ring).empty());
}

TEST(RingReader, SkipsDiscardedRecordsButFreesThem) {
  HandRing ring(4096);
  ring.put("kept 1");
  ring.put("discarded", kDiscard);
  ring.put("kept 2");
  EXPECT_EQ(consume_all(ring), (std::vector<std::string>{"kept 1", "kept 2"}));
  EXPECT_EQ(ring.consumer, ring.producer);
}

TEST(RingReader, StopsAtABusyRecordUntilItIsCommitted) {
  HandRing ring(4096);
  ring.put("before");
  const std::uint64_t busy = ring.put("reserved", kBusy);
  ring.put("after");
  EXPECT_EQ(consume_all(ring), (std::vector<std::string>{"before"}));
  EXPECT_EQ(ring.consumer, busy) << "a reserved record holds back everything after it";
  ring.set_word(busy, 8);  // committed
  EXPECT_EQ(consume_all(ring), (std::vector<std::string>{"reserved", "after"}));
  EXPECT_EQ(ring.consumer, ring.producer);
}

TEST(RingReader, JoinsARecordThatWrapsTheEnd) {
  HandRing ring(4096);
  // Positions only grow: start near the end of the third lap.
  ring.consumer = ring.producer = 3 * 4096 + 4096 - 64;
  std::string payload;
  for (int i = 0; i < 300; ++i) payload += static_cast<char>('a' + i % 26);
  ring.put(payload);
  ring.put("next");
  EXPECT_EQ(consume_all(ring), (std::vector<std::string>{payload, "next"}));
}

TEST(RingReader, ARecordEndingExactlyAtTheEndIsReadInPlace) {
  HandRing ring(4096);
  ring.consumer = ring.producer = 4096 - 64;
  const std::string payload(56, 'x');  // header 8 + 56 = the last 64 bytes
  ring.put(payload);
  ring.put("wrapped around to the start");
  EXPECT_EQ(consume_all(ring), (std::vector<std::string>{payload, "wrapped around to the start"}));
}

// A socket filter that copies its packet onto the stack and outputs it to the ring buffer:
// bpf_skb_load_bytes then bpf_ringbuf_output, run by BPF_PROG_TEST_RUN with a chosen packet.
int load_ring_writer(int map_fd, int bytes) {
  auto insn = [](std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
  };
  const std::vector<bpf_insn> program = {
      insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),       // r6 = ctx
      insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),       // r1 = ctx
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0),       // r2 = offset 0
      insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),      // r3 = fp
      insn(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -bytes),  // r3 = fp - bytes
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, bytes),   // r4 = bytes
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_load_bytes),
      insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd),  // r1 = the ring
      insn(0, 0, 0, 0, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
      insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -bytes),  // r2 = fp - bytes
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, bytes),   // r3 = bytes
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),       // r4 = flags
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_output),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "ring_writer", "GPL", program.data(), program.size(), nullptr);
}

TEST(RingReader, ReadsARealRingBufferAcrossItsEndWithTheDataMappedOnce) {
  if (geteuid() != 0) GTEST_SKIP() << "creating BPF maps and programs needs root";
  const int ring_bytes = static_cast<int>(sysconf(_SC_PAGESIZE));
  int map_fd =
      bpf_map_create(BPF_MAP_TYPE_RINGBUF, "reader_test", 0, 0, static_cast<std::uint32_t>(ring_bytes), nullptr);
  ASSERT_GE(map_fd, 0) << std::strerror(errno);
  // 200-byte records take 208 bytes: the page never holds a whole number of them, so
  // records keep straddling its end as the laps go by.
  constexpr int kBytes = 200;
  constexpr std::size_t kEthernetHeader = 14;
  int prog_fd = load_ring_writer(map_fd, kBytes);
  ASSERT_GE(prog_fd, 0) << std::strerror(errno);
  auto reader = RingReader::open(map_fd, static_cast<std::uint64_t>(ring_bytes));
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  EXPECT_EQ(reader->poll(0, collect, nullptr), 0) << "an empty ring delivers nothing";

  std::vector<std::string> sent;
  std::vector<std::string> got;
  for (int i = 0; i < 200; ++i) {
    // A socket filter sees the packet from past its Ethernet header.
    std::string packet(kEthernetHeader + kBytes, '\0');
    for (int j = 0; j < kBytes; ++j)
      packet[kEthernetHeader + static_cast<std::size_t>(j)] = static_cast<char>((i * 7 + j) & 0xff);
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet.data(),
                .data_size_in = static_cast<std::uint32_t>(packet.size()));
    ASSERT_EQ(bpf_prog_test_run_opts(prog_fd, &run), 0) << std::strerror(errno);
    sent.push_back(packet.substr(kEthernetHeader));
    // Read every few records so the ring is never full (a full ring drops the output).
    if (i % 5 == 4) {
      EXPECT_GT(reader->consume(collect, &got), 0);
      EXPECT_EQ(reader->used(), 0u);
    }
  }
  reader->consume(collect, &got);
  ASSERT_EQ(got.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(got[i], sent[i]) << "record " << i;
  close(prog_fd);
  close(map_fd);
}

}  // namespace
}  // namespace procsentry
