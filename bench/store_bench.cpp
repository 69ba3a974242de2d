// Sustained insert rate into the SQLite event store on one core, through the StoreWriter
// `procsentry record` uses (batched commits): the store's thread alone, and the whole replay
// path (decode, store row with JSON formatting, insert) on one core. bytes_per_event: the
// database's pages (page_count * page_size) per event stored.
//   build/release/bench/store_bench
// BM_StoreThreadVaried: a typical mix, 3,000 images and 20,000 command lines picked by a
// Zipf law (a few run most), one command line in 20 seen once (temp files, ports), the
// parent's image, users: what a build server's history looks like.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

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

// Zipf-distributed picks in [0, n): rank r with probability ~ 1 / (r + 1).
class Zipf {
 public:
  explicit Zipf(std::size_t n) {
    double sum = 0;
    for (std::size_t r = 0; r < n; ++r) cumulative_.push_back(sum += 1.0 / static_cast<double>(r + 1));
  }
  std::size_t pick(std::mt19937_64& rng) {
    const double x = std::uniform_real_distribution<double>(0, cumulative_.back())(rng);
    return static_cast<std::size_t>(std::lower_bound(cumulative_.begin(), cumulative_.end(), x) - cumulative_.begin());
  }

 private:
  std::vector<double> cumulative_;
};

// Forks, execs and exits of processes running a Zipf mix of images and command lines.
void varied_events(std::size_t processes, FormattedBatch& out) {
  Decoder decoder{ClockMapping{1'700'000'000'000'000'000}};
  ProcessUidScheme scheme{"ab", 10'000'000};
  StoreRowFormatter format;
  std::mt19937_64 rng(13);
  Zipf lines(20000);
  const char* const dirs[] = {"/usr/bin/", "/usr/local/bin/", "/usr/lib/gcc/x86_64-linux-gnu/12/", "/opt/app/bin/"};
  const char* const users[] = {"root", "build", "alice", "www-data", "postgres"};
  for (std::size_t p = 0; p < processes; ++p) {
    const std::size_t line = lines.pick(rng);
    const std::size_t image = line % 3000;  // a command line runs one image
    test::ExecSpec exec;
    exec.task.pid = exec.task.tid = static_cast<std::uint32_t>(10'000 + p);
    exec.task.uid = static_cast<std::uint32_t>(line % 5 == 0 ? 0 : 1000 + line % 5);
    exec.image = exec.filename = std::string(dirs[image % 4]) + "tool-" + std::to_string(image);
    exec.cwd = "/home/build/src/project-" + std::to_string(line % 40);
    exec.argv = {"tool-" + std::to_string(image), "--config=/etc/tool/" + std::to_string(line % 97) + ".conf", "-o",
                 "out/obj-" + std::to_string(line) + ".o", "src/file-" + std::to_string(line) + ".c"};
    if (rng() % 20 == 0) exec.argv.push_back("/tmp/tmp." + std::to_string(rng()));  // seen once
    const test::Bytes records[] = {test::fork_record(exec.task, 4100, 1), test::exec_record(exec),
                                   test::exit_record(exec.task, 0, 5'000'000'000)};
    for (const auto& r : records) {
      Event& e = **decoder.decode(r);
      e.process_uid = scheme.make(exec.task.pid, 7);
      e.parent_uid = scheme.make(4100 + static_cast<std::uint32_t>(line % 50), 1);
      e.user = users[line % 5];
      e.parent_image = Text{"/usr/bin/make", true, false, 13};
      e.known_image = Text{exec.image, true, false, static_cast<std::uint32_t>(exec.image.size())};
      out.add(format, e);
    }
  }
}

// What the store's own thread does in `procsentry record`: insert snapshots, commit batches.
// The store's thread alone: `events` (store rows) written round and round into an empty store
// as record's StoreWriter writes them, ticking as deliveries would.
void store_thread(benchmark::State& state, const FormattedBatch& events) {
  EmptyStore store;
  if (store.get() == nullptr) return state.SkipWithError(store.error().c_str());
  {
    StoreWriter outlet(*store.get(), {}, stderr);
    std::size_t next = 0;
    for (auto _ : state) {
      outlet.write(*StoreRow::parse(events[next]));
      if (++next == events.size()) next = 0;
      if (next % 3000 == 0) outlet.tick({});
    }
    outlet.finish();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_event"] =
      static_cast<double>(store.get()->size_bytes()) / static_cast<double>(state.iterations());
}

void BM_StoreThread(benchmark::State& state) {
  Workload workload;
  StoreRowFormatter format;
  FormattedBatch events;
  for (std::uint32_t pid = 1; pid <= 20'000; ++pid) workload.snapshots_of(pid, format, events);
  store_thread(state, events);
}

void BM_StoreThreadVaried(benchmark::State& state) {
  FormattedBatch events;
  varied_events(100'000, events);
  store_thread(state, events);
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

// One retention transaction (EventStore::kRetentionChunk oldest events, by --max-size) on a
// store of 150,000 typical events: the pause retention adds to recording, per chunk.
void BM_RetentionChunk(benchmark::State& state) {
  EmptyStore store;
  if (store.get() == nullptr) return state.SkipWithError(store.error().c_str());
  FormattedBatch events;
  varied_events(50'000, events);
  {
    StoreWriter outlet(*store.get(), {}, stderr);
    for (std::size_t i = 0; i < events.size(); ++i) outlet.write(*StoreRow::parse(events[i]));
  }
  std::int64_t deleted = 0;
  for (auto _ : state) {
    auto n = store.get()->apply_retention_step(0, 0, 1);
    if (!n || *n == 0) return state.SkipWithError("nothing left to delete");
    deleted += *n;
  }
  state.SetItemsProcessed(deleted);
}

BENCHMARK(BM_StoreThread)->MinTime(3.0);
BENCHMARK(BM_RetentionChunk)->Iterations(100)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StoreThreadVaried)->MinTime(3.0);
BENCHMARK(BM_ReplayToStore)->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
