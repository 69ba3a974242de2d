// Sustained insert rate into the SQLite event store on one core: decoded records through the
// same StoreSink `procsentry record` uses (JSON formatting included), batched commits.
//   build/release/bench/store_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "core/decode.h"
#include "store/store_sink.h"
#include "support/record_builder.h"

namespace {

using namespace procsentry;

void BM_StoreInsert(benchmark::State& state) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("store_bench." + std::to_string(getpid()));
  fs::remove_all(dir);  // each run (the library calls this several times) starts empty
  fs::create_directories(dir);
  auto store = EventStore::open((dir / "events.db").string());
  if (!store) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }
  test::ExecSpec exec;
  exec.image = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
  exec.argv = {"java", "-Xmx2g", "-Dconfig.file=/etc/app/app.conf", "-jar", "/srv/app/current/app.jar"};
  const std::vector<test::Bytes> records{test::fork_record(test::TaskSpec{}, 4100, 1), test::exec_record(exec),
                                         test::exit_record(test::TaskSpec{}, 0, 5'000'000'000)};
  Decoder decoder(ClockMapping{1'700'000'000'000'000'000});
  ProcessUidScheme scheme("ab", 10'000'000);
  {
    StoreSink sink(**store, {}, stderr);
    std::uint32_t pid = 1;
    for (auto _ : state) {
      for (const auto& r : records) {
        Event& e = **decoder.decode(r);
        e.task.pid = pid;
        e.process_uid = scheme.make(pid, 7);
        sink.write(e);
      }
      ++pid;
      if (pid % 1000 == 0) sink.flush();  // as a source's batches would
    }
    sink.finish();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(records.size()));
  store->reset();
  fs::remove_all(dir);
}

BENCHMARK(BM_StoreInsert)->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
