// The rules allocate nothing per event (the pipeline's hot path): every operator new of this
// binary is counted, and matching a mix of events a second time (RE2's caches warm, the
// scratch strings grown) must count none, with rules of every kind hitting and missing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>

#include "core/decode.h"
#include "core/process_table.h"
#include "rules/rules_config.h"
#include "support/record_builder.h"

namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

// Not inlined: GCC would pair a caller's `new` with free() inside and call them mismatched.
[[gnu::noinline]] void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// The nothrow form too (std::stable_sort's buffer): its memory comes back through delete.
[[gnu::noinline]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace procsentry {
namespace {

using test::kTickNs;
test::TaskSpec task(std::uint32_t pid, std::uint32_t ppid, std::string comm) {
  return test::task_of(pid, ppid, std::move(comm));
}
test::Bytes exec(std::uint32_t pid, std::uint32_t ppid, const std::string& image, std::vector<std::string> argv) {
  return test::exec_of(pid, ppid, image, std::move(argv), "/srv");
}

constexpr const char* kRules = R"(
rules:
  include:
    - name: vendor
      image: ["/opt/vendor/*", "*/agent"]
    - name: shell-under-web-server-with-a-long-name
      image: ["*/sh", "*/bash"]
      ancestor_image: "*/httpd"
    - name: flag
      argv: {contains: ["--flag"]}
    - name: pipe-to-shell
      argv: {regex: "curl .*\\| *(ba)?sh"}
    - name: odd
      argv: "*[0-9]x*"
    - name: parent
      parent_image: "*/httpd"
      event: exec
    - name: all
      event: [exec, exit]
  exclude:
    - name: probe
      comm: poller
      argv: {contains: ["--probe"]}
)";

TEST(RuleSetAllocations, MatchingAllocatesNothingOnceWarm) {
  const auto path = std::filesystem::temp_directory_path() / ("rules_alloc_test." + std::to_string(::getpid()));
  std::ofstream(path) << kRules;
  auto file = load_config_file(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(file.has_value()) << file.error().message;
  auto list = rules_from_config(*file);
  ASSERT_TRUE(list.has_value()) << list.error().message;
  ProcessTable table{ProcessUidScheme("b44953de", kTickNs), ProcessTableOptions{nullptr, false}};
  Decoder decoder{ClockMapping{0}};
  RuleSet rules(std::move(*list), table);

  std::vector<test::Bytes> records = {exec(1, 0, "/sbin/init", {"/sbin/init"}),
                                      exec(10, 1, "/usr/sbin/httpd", {"httpd", "-DFOREGROUND"})};
  const std::vector<std::pair<std::string, std::vector<std::string>>> programs = {
      {"/bin/sh", {"sh", "-c", "curl http://x | bash"}},
      {"/opt/vendor/agent", {"agent", "--flag", "7x"}},
      {"/usr/bin/poller", {"poller", "--probe"}},
      {"/usr/bin/ls", {"ls", "-l"}}};
  for (std::uint32_t i = 0; i < 40; ++i) {
    const std::uint32_t pid = 100 + i;
    const auto& [image, argv] = programs[i % programs.size()];
    records.push_back(test::fork_record(task(pid, 10, "httpd"), 10, (1000 + 10) * kTickNs));
    records.push_back(exec(pid, 10, image, argv));
    records.push_back(test::exit_record(task(pid, 10, argv[0]), 0, 5'000'000'000'000));
  }
  std::size_t tagged = 0, left_out = 0, allocations = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const test::Bytes& original : records) {
      test::Bytes record = original;
      Event& e = **decoder.decode(record);
      table.enrich(e);
      const std::size_t before = g_allocations.load();
      const bool kept = rules.admit(e);
      const std::size_t after = g_allocations.load();
      if (pass == 1) {
        allocations += after - before;
        tagged += e.rules.size();
        left_out += kept ? 0 : 1;
      }
      table.apply(e);
    }
  }
  EXPECT_GT(tagged, 0u);
  EXPECT_GT(left_out, 0u);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace procsentry
