// Cost of masking secrets (src/redact) per exec event, on one core, no kernel: a realistic mix
// of command lines (two of eight carry a secret), decoded each time, with the built-in
// redaction against none.
//   build/dev/bench/redact_bench   (the release preset for figures)
#include <benchmark/benchmark.h>

#include <vector>

#include "core/decode.h"
#include "redact/redactor.h"
#include "support/record_builder.h"

namespace {

using procsentry::test::Bytes;

std::vector<std::vector<std::string>> argv_mix() {
  return {
      {"java", "-Xmx2g", "-Dconfig.file=/etc/app/app.conf", "-jar", "/srv/app/current/app.jar", "--port", "8080"},
      {"/bin/sh", "-c", "ps -eo pid,comm | grep -v grep | wc -l"},
      {"git", "rev-parse", "--abbrev-ref", "HEAD"},
      {"/usr/bin/python3", "/usr/lib/python3/dist-packages/agent/main.py", "--config", "/etc/agent.yaml", "-v"},
      {"curl", "-fsS", "-H", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
       "https://api.example.com/v1/health"},
      {"mysql", "-uroot", "-pS3cretPassw0rd", "-e", "select 1"},
      {"systemctl", "is-active", "--quiet", "nginx.service"},
      {"/usr/sbin/nginx", "-g", "daemon on; master_process on;"},
  };
}

std::vector<Bytes> exec_records(bool with_secrets = true) {
  using namespace procsentry::test;
  std::vector<Bytes> records;
  for (auto& argv : argv_mix()) {
    if (!with_secrets && (argv[0] == "curl" || argv[0] == "mysql")) continue;
    ExecSpec exec;
    exec.image = "/usr/bin/" + argv[0];
    exec.filename = exec.image;
    exec.cwd = "/srv/app/current";
    exec.argv = argv;
    records.push_back(exec_record(exec));
  }
  return records;
}

void run(benchmark::State& state, procsentry::EventRedaction* redaction, bool with_secrets = true) {
  const auto records = exec_records(with_secrets);
  procsentry::Decoder decoder(procsentry::ClockMapping{1'700'000'000'000'000'000});
  std::int64_t masked = 0;
  for (auto _ : state) {
    for (const auto& record : records) {
      auto event = decoder.decode(record);
      if (!event) state.SkipWithError("decode failed");
      if (redaction != nullptr) masked += redaction->redact(**event);
      benchmark::DoNotOptimize(&**event);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(records.size()));
  state.counters["masked"] = benchmark::Counter(static_cast<double>(masked), benchmark::Counter::kAvgIterations);
}

void BM_DecodeExec_RedactionOff(benchmark::State& state) { run(state, nullptr); }

void BM_DecodeExec_BuiltinRedaction(benchmark::State& state) {
  auto redactor = procsentry::Redactor::compile({});
  run(state, redactor->get());
}

// The six command lines without a secret: what most execs cost.
void BM_DecodeExec_BuiltinRedaction_NoSecret(benchmark::State& state) {
  auto redactor = procsentry::Redactor::compile({});
  run(state, redactor->get(), false);
}
void BM_DecodeExec_RedactionOff_NoSecret(benchmark::State& state) { run(state, nullptr, false); }

void BM_DecodeExec_BuiltinAndUserRedaction(benchmark::State& state) {
  procsentry::RedactSettings settings;
  settings.options = {"my-secret-flag", "license"};
  settings.regexes = {"token=[^ ]+", "(?i)x-api-key:\\s*(\\S+)"};
  auto redactor = procsentry::Redactor::compile(settings);
  run(state, redactor->get());
}

BENCHMARK(BM_DecodeExec_RedactionOff);
BENCHMARK(BM_DecodeExec_BuiltinRedaction);
BENCHMARK(BM_DecodeExec_BuiltinAndUserRedaction);
BENCHMARK(BM_DecodeExec_RedactionOff_NoSecret);
BENCHMARK(BM_DecodeExec_BuiltinRedaction_NoSecret);

}  // namespace

BENCHMARK_MAIN();
