// User-space pipeline throughput on one core: decode + format of synthetic records, no kernel.
//   build/release/bench/pipeline_bench
#include <benchmark/benchmark.h>

#include <vector>

#include "core/decode.h"
#include "sinks/formats/ecs_format.h"
#include "sinks/formats/json_format.h"
#include "sinks/formats/ocsf_format.h"
#include "sinks/formats/table_format.h"
#include "support/record_builder.h"

namespace {

using procsentry::test::Bytes;

// A representative mix: each process gives a fork, an exec with a typical command line, an exit.
std::vector<Bytes> event_mix() {
  using namespace procsentry::test;
  ExecSpec exec;
  exec.image = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
  exec.filename = "/usr/bin/java";
  exec.cwd = "/srv/app/current";
  exec.argv = {"java",   "-Xmx2g", "-Dconfig.file=/etc/app/app.conf", "-jar", "/srv/app/current/app.jar",
               "--port", "8080"};
  return {fork_record(TaskSpec{}, 4100, 1), exec_record(exec), exit_record(TaskSpec{}, 0, 5'000'000'000)};
}

template <typename Format>
void run_pipeline(benchmark::State& state, Format format) {
  const auto records = event_mix();
  procsentry::Decoder decoder(procsentry::ClockMapping{1'700'000'000'000'000'000});
  std::string out;
  out.reserve(1 << 20);
  for (auto _ : state) {
    for (const auto& record : records) {
      auto event = decoder.decode(record);
      if (!event) state.SkipWithError("decode failed");
      format(out, **event);
      out += '\n';
    }
    if (out.size() > (1 << 19)) out.clear();  // a sink would write it out here
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(records.size()));
}

void BM_DecodeOnly(benchmark::State& state) {
  run_pipeline(state, [](std::string&, const procsentry::Event& e) { benchmark::DoNotOptimize(&e); });
}
void BM_DecodeAndJson(benchmark::State& state) {
  procsentry::JsonFormatter format;
  run_pipeline(state, [&](std::string& out, const procsentry::Event& e) { format.append_object(out, e); });
}
void BM_DecodeAndEcs(benchmark::State& state) {
  procsentry::EcsFormatter format(procsentry::EventSource{"web-7", false});
  run_pipeline(state, [&](std::string& out, const procsentry::Event& e) { format.append_object(out, e); });
}
void BM_DecodeAndOcsf(benchmark::State& state) {
  procsentry::OcsfFormatter format(procsentry::EventSource{"web-7", false});
  run_pipeline(state, [&](std::string& out, const procsentry::Event& e) { format.append_object(out, e); });
}
void BM_DecodeAndTable(benchmark::State& state) {
  procsentry::TableFormatter format(false);
  run_pipeline(state, [&](std::string& out, const procsentry::Event& e) { format.append_line(out, e); });
}

BENCHMARK(BM_DecodeOnly);
BENCHMARK(BM_DecodeAndJson);
BENCHMARK(BM_DecodeAndEcs);
BENCHMARK(BM_DecodeAndOcsf);
BENCHMARK(BM_DecodeAndTable);

}  // namespace

BENCHMARK_MAIN();
