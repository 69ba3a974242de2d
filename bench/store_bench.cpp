// Sustained insert rate into the SQLite event store on one core, through the StoreWriter
// `procsentry record` uses (batched commits): the store's thread alone, and the whole replay
// path (decode, store row with JSON formatting, insert) on one core.
//   build/release/bench/store_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "core/decode.h"
#include "store/store_row.h"
#include "store/store_writer.h"
#include "support/record_builder.h"

namespace {

using namespace procsentry;
namespace fs = std::filesystem;

struct Workload {
  Decoder decoder{ClockMapping{1'700'000'000'000'000'000}};
  ProcessUidScheme scheme{"ab", 10'000'000};
  std::vector<test::Bytes> records;
  Workload() {
    test::ExecSpec exec;
    exec.image = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
    exec.argv = {"java", "-Xmx2g", "-Dconfig.file=/etc/app/app.conf", "-jar", "/srv/app/current/app.jar"};
    records = {test::fork_record(test::TaskSpec{}, 4100, 1), test::exec_record(exec),
               test::exit_record(test::TaskSpec{}, 0, 5'000'000'000)};
  }
  // One process's fork, exec and exit, as the event thread hands them over.
  void snapshots_of(std::uint32_t pid, StoreRowFormatter& format, FormattedBatch& out) {
    for (const auto& r : records) {
      Event& e = **decoder.decode(r);
      e.task.pid = pid;
      e.process_uid = scheme.make(pid, 7);
      e.parent_uid = scheme.make(4100, 1);
      e.user = "root";
      out.add(format, e);
    }
  }
};

class EmptyStore {
 public:
  EmptyStore() {
    fs::remove_all(dir_);  // each run (the library calls this several times) starts empty
    fs::create_directories(dir_);
    auto opened = EventStore::open((dir_ / "events.db").string());
    if (opened)
      store_ = std::move(*opened);
    else
      error_ = opened.error().message;
  }
  ~EmptyStore() {
    store_.reset();
    fs::remove_all(dir_);
  }
  EventStore* get() { return store_.get(); }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_ = fs::temp_directory_path() / ("store_bench." + std::to_string(getpid()));
  std::unique_ptr<EventStore> store_;
  std::string error_;
};

// What the store's own thread does in `procsentry record`: insert snapshots, commit batches.
void BM_StoreThread(benchmark::State& state) {
  EmptyStore store;
  if (store.get() == nullptr) return state.SkipWithError(store.error().c_str());
  Workload workload;
  StoreRowFormatter format;
  FormattedBatch events;
  for (std::uint32_t pid = 1; pid <= 20'000; ++pid) workload.snapshots_of(pid, format, events);
  {
    StoreWriter outlet(*store.get(), {}, stderr);
    std::size_t next = 0;
    for (auto _ : state) {
      outlet.write(*StoreRow::parse(events[next]));
      if (++next == events.size()) next = 0;
      if (next % 3000 == 0) outlet.tick({});  // as deliveries would
    }
    outlet.finish();
  }
  state.SetItemsProcessed(state.iterations());
}

// The whole replay path on one core: decode, snapshot (JSON formatting included), insert.
void BM_ReplayToStore(benchmark::State& state) {
  EmptyStore store;
  if (store.get() == nullptr) return state.SkipWithError(store.error().c_str());
  Workload workload;
  StoreRowFormatter format;
  FormattedBatch events;
  {
    StoreWriter outlet(*store.get(), {}, stderr);
    std::uint32_t pid = 1;
    for (auto _ : state) {
      events.clear();
      workload.snapshots_of(pid, format, events);
      for (std::size_t i = 0; i < events.size(); ++i) outlet.write(*StoreRow::parse(events[i]));
      if (++pid % 1000 == 0) outlet.tick({});
    }
    outlet.finish();
  }
  state.SetItemsProcessed(state.iterations() * 3);
}

BENCHMARK(BM_StoreThread)->MinTime(3.0);
BENCHMARK(BM_ReplayToStore)->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
