// The pipeline numbers what it writes: seq 1, 2, 3... on every event an output gets, none on
// what the filter leaves out (no gap a receiver would take for a loss), kernel drops included.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "app/pipeline.h"
#include "support/record_builder.h"

namespace procsentry {
namespace {

using test::Bytes;

class NoUsers final : public UserDatabase {
 public:
  std::string user_name(std::uint32_t) override { return {}; }
  std::string group_name(std::uint32_t) override { return {}; }
};

struct Written {
  EventKind kind;
  std::uint64_t seq;
  std::string host_id, boot_id;
};

class RecordingSink final : public Sink {
 public:
  void write(const Event& e) override {
    written.push_back({e.kind, e.seq, std::string(e.host_id), std::string(e.boot_id)});
  }
  void flush() override {}
  std::vector<Written> written;
};

struct Harness {
  explicit Harness(FilterOptions options) : filter(std::move(options)) {}
  NoUsers database;
  UserNames users{database};
  ProcessTable table{ProcessUidScheme("b44953de", 10'000'000), ProcessTableOptions{}};
  Decoder decoder{ClockMapping{}};
  Filter filter;
  RecordingSink sink;
  EventPipeline pipeline{decoder, Enrichment{table, users}, filter, sink, stderr};
  void feed(const Bytes& record) { pipeline.on_record(record); }
};

Bytes exec_of(std::uint32_t pid) {
  test::ExecSpec spec;
  spec.task.pid = spec.task.tid = pid;
  return test::exec_record(spec);
}

TEST(PipelineSeq, NumbersOnlyWhatTheOutputsGetWithoutGaps) {
  FilterOptions only;
  only.pids = {10, 30};
  Harness h(only);
  h.pipeline.use_origin("host-a", "boot-1");
  h.feed(exec_of(10));
  h.feed(exec_of(20));  // left out by the filter: takes no number
  h.feed(test::lost_record(7, 1));
  h.feed(exec_of(30));
  ASSERT_EQ(h.sink.written.size(), 3u);
  for (std::size_t i = 0; i < h.sink.written.size(); ++i) {
    EXPECT_EQ(h.sink.written[i].seq, i + 1);
    EXPECT_EQ(h.sink.written[i].host_id, "host-a");
    EXPECT_EQ(h.sink.written[i].boot_id, "boot-1");
  }
  EXPECT_EQ(h.sink.written[1].kind, EventKind::lost) << "a kernel drop is an event with its own number";
  EXPECT_EQ(h.pipeline.last_seq(), 3u);
}

TEST(PipelineSeq, UnnumberedWithoutOriginStillCounts) {
  Harness h(FilterOptions{});
  h.feed(exec_of(10));
  ASSERT_EQ(h.sink.written.size(), 1u);
  EXPECT_EQ(h.sink.written[0].seq, 1u);
  EXPECT_EQ(h.sink.written[0].host_id, "");
}

}  // namespace
}  // namespace procsentry
