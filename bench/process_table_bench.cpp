// The process table's memory and per-event cost with 50,000 live processes, side by side
// with a nearly empty table (the ratio is what to read).
//   build/release/bench/process_table_bench
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "core/decode.h"
#include "core/process_table.h"
#include "support/record_builder.h"

namespace {

using namespace procsentry;
using procsentry::test::Bytes;

constexpr std::uint64_t kTickNs = 10'000'000;

test::TaskSpec task(std::uint32_t pid, std::uint32_t ppid) {
  test::TaskSpec t;
  t.pid = t.tid = pid;
  t.ppid = ppid;
  t.start_time_ns = (1000 + pid) * kTickNs;
  return t;
}

// A fork, an exec with a typical command line and an exit: one short-lived child of `parent`.
std::vector<Bytes> lifecycle(std::uint32_t pid, std::uint32_t parent) {
  test::ExecSpec exec;
  exec.task = task(pid, parent);
  exec.image = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
  exec.argv = {"java",   "-Xmx2g", "-Dconfig.file=/etc/app/app.conf", "-jar", "/srv/app/current/app.jar",
               "--port", "8080"};
  return {test::fork_record(task(pid, parent), parent, (1000 + parent) * kTickNs), test::exec_record(exec),
          test::exit_record(task(pid, parent), 0, 5'000'000'000'000)};
}

void feed(ProcessTable& table, Decoder& decoder, const Bytes& record) {
  auto event = decoder.decode(record);
  if (table.enrich(**event)) table.apply(**event);
}

std::size_t heap_in_use() { return mallinfo2().uordblks; }

// Fills the table with `live` processes (children of pid 1 in a 3-level tree, each exec'd
// with a full command line), then measures fork+exec+exit of one more process.
void BM_TableLifecycle(benchmark::State& state) {
  const auto live = static_cast<std::uint32_t>(state.range(0));
  Decoder decoder(ClockMapping{0});
  ProcessTable table(ProcessUidScheme("ab", kTickNs), ProcessTableOptions{nullptr, true});
  std::size_t heap_before = heap_in_use();
  for (std::uint32_t i = 0; i < live; ++i) {
    std::uint32_t pid = 100 + i;
    std::uint32_t parent = i < 100 ? 1 : 100 + i / 100;
    auto records = lifecycle(pid, parent);
    feed(table, decoder, records[0]);
    feed(table, decoder, records[1]);  // stays alive: no exit
  }
  const double bytes = static_cast<double>(heap_in_use() - heap_before);
  const std::uint32_t child = 1'000'000;
  auto records = lifecycle(child, 100 + live / 2);  // parent deep in the tree: --ancestry walks
  for (auto _ : state) {
    for (const auto& r : records) feed(table, decoder, r);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(records.size()));
  state.counters["live"] = static_cast<double>(table.size());
  state.counters["table_MiB"] = bytes / (1 << 20);
  state.counters["bytes_per_process"] = live == 0 ? 0 : bytes / live;
}

BENCHMARK(BM_TableLifecycle)->Arg(1)->Arg(50'000)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
