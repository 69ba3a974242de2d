// Outputs on their own threads (FanoutSink, WriterThread): every output gets every event in
// order; a slow or dead output costs only its own events, counted, and never holds up the
// event thread or the others. Run under ThreadSanitizer in CI.
#include "sinks/run/fanout_sink.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <latch>
#include <mutex>
#include <string>
#include <thread>

#include "core/decode.h"
#include "support/record_builder.h"

namespace procsentry {
namespace {

// Formats an event as its pid, counting how often it ran (once per event, whatever the
// number of outputs it serves).
class PidFormatter final : public Formatter {
 public:
  void append(std::string& out, const Event& event) override {
    out += std::to_string(event.task.pid);
    ++calls;
  }
  std::uint64_t calls = 0;  // event thread only
};

// Keeps the pid of every event it is given; can be held back until released.
class RecordingWriter final : public Writer {
 public:
  explicit RecordingWriter(std::string name, std::latch* hold = nullptr) : name_(std::move(name)), hold_(hold) {}
  std::string name() const override { return name_; }
  void write(const FormattedBatch& events, std::stop_token) override {
    if (hold_ != nullptr) hold_->wait();
    for (std::size_t i = 0; i < events.size(); ++i)
      pids_->push_back(static_cast<std::uint32_t>(std::stoul(std::string(events[i]))));
  }
  bool dead() const override { return dies_after_ != 0 && pids_->size() >= dies_after_; }
  std::shared_ptr<std::vector<std::uint32_t>> pids() { return pids_; }
  void die_after(std::size_t n) { dies_after_ = n; }

 private:
  std::string name_;
  std::latch* hold_;
  std::size_t dies_after_ = 0;
  // Read by the test only after stop() joined the output's thread.
  std::shared_ptr<std::vector<std::uint32_t>> pids_ = std::make_shared<std::vector<std::uint32_t>>();
};

class FanoutTest : public ::testing::Test {
 protected:
  // `count` exec events of pids 1..count, in batches of `batch` as a source would deliver.
  void produce(FanoutSink& fanout, std::uint32_t count, std::uint32_t batch,
               const std::function<void(std::uint32_t)>& after_flush = {}) {
    Decoder decoder(ClockMapping{1'700'000'000'000'000'000});
    test::ExecSpec spec;
    spec.argv = {"sh", "-c", "echo \"$HOME\""};
    const test::Bytes bytes = test::exec_record(spec);
    for (std::uint32_t pid = 1; pid <= count; ++pid) {
      Event& e = **decoder.decode(bytes);
      e.task.pid = pid;
      fanout.write(e);
      if (pid % batch == 0) {
        fanout.flush();
        if (after_flush) after_flush(pid);
      }
    }
    fanout.flush();
  }
  static bool in_order_without_gaps(const std::vector<std::uint32_t>& pids, std::uint32_t count) {
    if (pids.size() != count) return false;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (pids[i] != i + 1) return false;
    }
    return true;
  }
  static bool strictly_increasing(const std::vector<std::uint32_t>& pids) {
    for (std::size_t i = 1; i < pids.size(); ++i) {
      if (pids[i] <= pids[i - 1]) return false;
    }
    return true;
  }

  std::string diagnostics() {
    std::fflush(diagnostics_);
    return std::string(text_, size_);
  }
  ~FanoutTest() override {
    std::fclose(diagnostics_);
    free(text_);
  }
  std::shared_ptr<PidFormatter> format_ = std::make_shared<PidFormatter>();
  char* text_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* diagnostics_ = open_memstream(&text_, &size_);
};

TEST_F(FanoutTest, EveryOutputGetsEveryEventOnceInOrder) {
  std::vector<std::shared_ptr<std::vector<std::uint32_t>>> received;
  std::vector<Output> outlets;
  for (int i = 0; i < 4; ++i) {
    auto outlet = std::make_unique<RecordingWriter>("output " + std::to_string(i));
    received.push_back(outlet->pids());
    outlets.push_back(Output{format_, std::move(outlet)});
  }
  BacklogLimits limits;
  limits.wait_when_full = true;  // nothing may be dropped here, however the threads are scheduled
  FanoutSink fanout(std::move(outlets), limits, diagnostics_);
  produce(fanout, 50'000, 97);
  fanout.stop();
  for (std::size_t i = 0; i < received.size(); ++i) {
    EXPECT_TRUE(in_order_without_gaps(*received[i], 50'000)) << "output " << i << " got " << received[i]->size();
    const WriterCounters c = fanout.outputs()[i]->counters();
    EXPECT_EQ(c.delivered, 50'000u);
    EXPECT_EQ(c.dropped, 0u);
  }
  EXPECT_EQ(format_->calls, 50'000u) << "four outputs of one format: each event formatted once";
}

// Outputs of different formats each get their own bytes.
TEST_F(FanoutTest, EachFormatReachesItsOwnOutputs) {
  class Tagged final : public Formatter {
   public:
    void append(std::string& out, const Event& event) override { out += "9" + std::to_string(event.task.pid); }
  };
  auto plain = std::make_unique<RecordingWriter>("plain");
  auto tagged = std::make_unique<RecordingWriter>("tagged");
  auto plain_pids = plain->pids();
  auto tagged_pids = tagged->pids();
  std::vector<Output> outlets;
  outlets.push_back(Output{format_, std::move(plain)});
  outlets.push_back(Output{std::make_shared<Tagged>(), std::move(tagged)});
  BacklogLimits limits;
  limits.wait_when_full = true;
  FanoutSink fanout(std::move(outlets), limits, diagnostics_);
  produce(fanout, 5, 2);
  fanout.stop();
  EXPECT_EQ(*plain_pids, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(*tagged_pids, (std::vector<std::uint32_t>{91, 92, 93, 94, 95}));
}

// The seed's lesson applied to outputs: a stuck output must not stop the event thread.
TEST_F(FanoutTest, AStuckOutputDropsOnlyItsOwnEventsAndNeverBlocksTheOthers) {
  std::latch release(1);
  auto fast = std::make_unique<RecordingWriter>("the fast output");
  auto stuck = std::make_unique<RecordingWriter>("the stuck output", &release);
  auto fast_pids = fast->pids();
  auto stuck_pids = stuck->pids();
  std::vector<Output> outlets;
  outlets.push_back(Output{format_, std::move(fast)});
  outlets.push_back(Output{format_, std::move(stuck)});
  BacklogLimits limits;
  limits.events = 1000;
  FanoutSink fanout(std::move(outlets), limits, diagnostics_);
  // The stuck output is still stuck while all of this runs: produce() returning is the proof
  // that nothing waited for it. The fast output is let catch up after each batch (on a busy
  // machine its thread could otherwise fall behind too, and rightly drop).
  produce(fanout, 20'000, 100, [&](std::uint32_t produced) {
    while (fanout.outputs()[0]->counters().delivered < produced) std::this_thread::yield();
  });
  release.count_down();
  fanout.stop();

  EXPECT_TRUE(in_order_without_gaps(*fast_pids, 20'000)) << fast_pids->size();
  EXPECT_EQ(fanout.outputs()[0]->counters().dropped, 0u);
  const WriterCounters stuck_counts = fanout.outputs()[1]->counters();
  EXPECT_GT(stuck_counts.dropped, 0u);
  EXPECT_EQ(stuck_counts.delivered + stuck_counts.dropped, 20'000u);
  EXPECT_EQ(stuck_pids->size(), stuck_counts.delivered);
  EXPECT_LE(stuck_counts.delivered, 1000u + 100u);  // its backlog, plus the batch it held
  EXPECT_TRUE(strictly_increasing(*stuck_pids));    // what it got, it got once and in order
  const std::string said = diagnostics();
  EXPECT_NE(said.find("the stuck output is not keeping up"), std::string::npos) << said;
  EXPECT_NE(
      said.find("the stuck output caught up (" + std::to_string(stuck_counts.dropped) + " of its events were dropped)"),
      std::string::npos)
      << said;
  EXPECT_EQ(said.find("the fast output"), std::string::npos) << said;
}

TEST_F(FanoutTest, TheFanoutFailsOnlyWhenEveryOutputIsDead) {
  auto dying = std::make_unique<RecordingWriter>("the terminal");
  dying->die_after(1);
  std::vector<Output> outlets;
  outlets.push_back(Output{format_, std::move(dying)});
  outlets.push_back(Output{format_, std::make_unique<RecordingWriter>("the database")});
  BacklogLimits limits;
  limits.wait_when_full = true;
  {
    FanoutSink fanout(std::move(outlets), limits, diagnostics_);
    produce(fanout, 10, 1);
    fanout.stop();
    EXPECT_TRUE(fanout.outputs()[0]->dead());
    EXPECT_FALSE(fanout.failed());
    EXPECT_EQ(fanout.outputs()[1]->counters().delivered, 10u);
  }
  auto alone = std::make_unique<RecordingWriter>("the terminal");
  alone->die_after(1);
  outlets.clear();
  outlets.push_back(Output{format_, std::move(alone)});
  FanoutSink fanout(std::move(outlets), limits, diagnostics_);
  produce(fanout, 10, 1);
  fanout.stop();
  EXPECT_TRUE(fanout.failed());
}

// Replay has no kernel to keep up with: a slow output makes it wait, and nothing is lost.
TEST_F(FanoutTest, WaitingWhenFullLosesNothing) {
  std::latch release(1);
  auto slow = std::make_unique<RecordingWriter>("the slow output", &release);
  auto pids = slow->pids();
  std::vector<Output> outlets;
  outlets.push_back(Output{format_, std::move(slow)});
  BacklogLimits limits;
  limits.events = 500;
  limits.wait_when_full = true;
  FanoutSink fanout(std::move(outlets), limits, diagnostics_);
  // The writer holds the first batch; the writer is let go only once the backlog (the held
  // batch included) is full, so the producer's next batch finds no room and has to wait.
  std::atomic<std::uint32_t> produced{0};
  std::thread releaser([&] {
    for (std::uint32_t seen = 0; seen < limits.events; seen = produced.load()) produced.wait(seen);
    release.count_down();
  });
  produce(fanout, 5'000, 50, [&](std::uint32_t pid) {
    produced = pid;
    produced.notify_one();
  });
  fanout.stop();
  releaser.join();
  EXPECT_TRUE(in_order_without_gaps(*pids, 5'000)) << pids->size();
  EXPECT_EQ(fanout.outputs()[0]->counters().dropped, 0u);
}

// A writer that wants keys (Kafka) gets each event's process_uid beside its bytes; the other
// outputs of the same format share the same batch, keys and all.
TEST_F(FanoutTest, AWriterThatWantsKeysGetsEachEventsProcessUid) {
  class KeyedWriter final : public Writer {
   public:
    std::string name() const override { return "keyed"; }
    void write(const FormattedBatch& events, std::stop_token) override {
      for (std::size_t i = 0; i < events.size(); ++i) seen->emplace_back(events[i], events.key(i));
    }
    bool wants_keys() const override { return true; }
    std::shared_ptr<std::vector<std::pair<std::string, std::string>>> seen =
        std::make_shared<std::vector<std::pair<std::string, std::string>>>();
  };
  auto keyed = std::make_unique<KeyedWriter>();
  auto seen = keyed->seen;
  std::vector<Output> outlets;
  outlets.push_back(Output{format_, std::move(keyed)});
  outlets.push_back(Output{format_, std::make_unique<RecordingWriter>("plain")});
  BacklogLimits limits;
  limits.wait_when_full = true;
  FanoutSink fanout(std::move(outlets), limits, diagnostics_);
  const ProcessUidScheme scheme("0123456789abcdef", 10'000'000);
  Decoder decoder(ClockMapping{1'700'000'000'000'000'000});
  const test::Bytes bytes = test::exec_record(test::ExecSpec{});
  for (std::uint32_t pid = 1; pid <= 300; ++pid) {
    Event& e = **decoder.decode(bytes);
    e.task.pid = pid;
    e.process_uid = pid % 3 == 0 ? ProcessUid() : scheme.make(pid, 1000 + pid);  // some events have none
    fanout.write(e);
    if (pid % 7 == 0) fanout.flush();
  }
  fanout.stop();
  ASSERT_EQ(seen->size(), 300u);
  for (std::uint32_t pid = 1; pid <= 300; ++pid) {
    const auto& [bytes_seen, key] = (*seen)[pid - 1];
    EXPECT_EQ(bytes_seen, std::to_string(pid));
    EXPECT_EQ(key, pid % 3 == 0 ? "" : std::string(scheme.make(pid, 1000 + pid).view())) << pid;
  }
}

}  // namespace
}  // namespace procsentry
