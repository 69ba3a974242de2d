// --metrics against the real sensor: the exposition passes `promtool check metrics` (Debian's
// prometheus package), counters move as processes run, rule counters follow a --config file,
// and /healthz follows a syslog server that goes away and comes back.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "integration/monitor.h"
#include "support/rsyslog_server.h"

extern char** environ;

namespace procsentry::test {
namespace {

using namespace std::chrono_literals;
constexpr const char* kPromtool = "/usr/bin/promtool";

// The URL the monitor printed at start-up ("metrics on http://127.0.0.1:PORT/metrics").
std::string metrics_base(const Monitor& monitor) {
  std::smatch m;
  const std::string err = monitor.stderr_text();
  if (!std::regex_search(err, m, std::regex("metrics on (http://[^ ]+)/metrics"))) return {};
  return m[1];
}

struct Scrape {
  int status = 0;
  std::string body;
};
Scrape get(const std::string& base, const std::string& path) {
  httplib::Client client(base);
  auto response = client.Get(path);
  if (!response) return {};
  return {response->status, response->body};
}

// One sample's value, or -1 if the series is absent.
double value_of(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// Polls /metrics until `done` holds for it; the last scrape.
std::string scrape_until(const std::string& base, const std::function<bool(const std::string&)>& done,
                         std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  for (;;) {
    last = get(base, "/metrics").body;
    if (done(last) || std::chrono::steady_clock::now() >= deadline) return last;
    std::this_thread::sleep_for(50ms);
  }
}

// promtool check metrics < text: its exit status and what it said.
std::pair<int, std::string> promtool_check(const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string in = (dir / ("procsentry-metrics-" + std::to_string(getpid()) + ".txt")).string();
  const std::string out = in + ".out";
  std::ofstream(in) << text;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  char* argv[] = {const_cast<char*>("promtool"), const_cast<char*>("check"), const_cast<char*>("metrics"), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, kPromtool, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return {-1, "cannot run promtool"};
  const int status = wait_for(pid);
  std::stringstream said;
  said << std::ifstream(out).rdbuf();
  std::filesystem::remove(in);
  std::filesystem::remove(out);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, said.str()};
}

class Metrics : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  }
};

// Under the seccomp allow-list too: the HTTP threads' calls are in it.
TEST_F(Metrics, ScrapePassesPromtoolAndCountsExecs) {
  // Root runs CI: there a missing promtool is a failure, not a skip.
  ASSERT_EQ(access(kPromtool, X_OK), 0) << kPromtool
                                        << " is missing: apt-get install prometheus (tools/deps.sh --for-tests)";
  // Under the allow-list in the plain build; the sanitizers' runtimes make calls of their own
  // the allow-list does not have (as in syscall_filter_test).
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  Monitor monitor({"--metrics", "127.0.0.1:0", "--seccomp"});
#else
  Monitor monitor({"--metrics", "127.0.0.1:0"});
#endif
  const std::string base = metrics_base(monitor);
  ASSERT_FALSE(base.empty()) << monitor.stderr_text();
  const std::string exec_series = "procsentry_events_total{kind=\"exec\"}";
  // The first snapshot is published within 100 ms of the start (later under a sanitizer): wait for it.
  const std::string first = scrape_until(base, [&](const std::string& t) { return value_of(t, exec_series) >= 0; });
  const double before = value_of(first, exec_series);
  ASSERT_GE(before, 0) << first;
  constexpr int kExecs = 25;
  for (int i = 0; i < kExecs; ++i) EXPECT_EQ(run("/bin/true", {"true", "metrics", std::to_string(i)}).second, 0);
  const std::string text =
      scrape_until(base, [&](const std::string& t) { return value_of(t, exec_series) >= before + kExecs; });
  EXPECT_GE(value_of(text, exec_series), before + kExecs) << text;
  EXPECT_GE(value_of(text, "procsentry_events_total{kind=\"exit\"}"), kExecs);
  EXPECT_GE(value_of(text, "procsentry_output_written_total{output=\"the live view\"}"), kExecs);
  EXPECT_GT(value_of(text, "procsentry_process_table_processes"), 0);
  EXPECT_EQ(value_of(text, "procsentry_sensor_attached"), 1);
  EXPECT_GT(value_of(text, "procsentry_ring_buffer_size_bytes"), 0);
  EXPECT_NE(text.find("procsentry_build_info{version=\""), std::string::npos);
  const double started = value_of(text, "procsentry_start_time_seconds");
  const double now = static_cast<double>(std::chrono::system_clock::now().time_since_epoch().count()) / 1e9;
  EXPECT_GT(started, now - 600);
  EXPECT_LE(started, now);
  auto [status, said] = promtool_check(text);
  EXPECT_EQ(status, 0) << said << "\n" << text;
  EXPECT_EQ(said, "") << "promtool's lint: " << said;
  const Scrape health = get(base, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(monitor.stop(), 0) << monitor.stderr_text();
}

// The acceptance example's rules, with `metrics:` from the file itself.
TEST_F(Metrics, RuleMatchesAreCountedByRuleName) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("procsentry-metrics-rules-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string config = (dir / "procsentry.yaml").string();
  std::ofstream(config) << "rules:\n"
                           "  include:\n"
                           "    - name: from-tmp\n"
                           "      image: [\"/tmp/*\", \"/dev/shm/*\"]\n"
                           "    - name: execs-and-exits\n"
                           "      event: [exec, exit]\n"
                           "  exclude:\n"
                           "    - name: quiet-probe\n"
                           "      image: /usr/bin/true\n"
                           "      argv: {contains: [\"--quiet-probe\"]}\n"
                           "metrics: 127.0.0.1:0\n";
  Monitor monitor({"--config", config});
  const std::string base = metrics_base(monitor);
  ASSERT_FALSE(base.empty()) << monitor.stderr_text();
  auto series = [](const char* rule, const char* list) {
    return std::string("procsentry_rule_matches_total{rule=\"") + rule + "\",list=\"" + list + "\"}";
  };
  const std::string first = scrape_until(
      base, [&](const std::string& t) { return value_of(t, series("quiet-probe", "exclude").c_str()) >= 0; });
  const double probes_before = value_of(first, series("quiet-probe", "exclude"));
  const double excluded_before = value_of(first, "procsentry_rules_excluded_total");
  ASSERT_GE(probes_before, 0) << first;
  // /tmp: a copy of true, run from there (the from-tmp rule). The machine's other processes
  // move the other counters too: only lower bounds hold.
  const std::string tmp_true = (dir / "true").string();
  std::filesystem::copy_file("/usr/bin/true", tmp_true, std::filesystem::copy_options::overwrite_existing);
  constexpr int kEach = 5;
  for (int i = 0; i < kEach; ++i) {
    EXPECT_EQ(run("/usr/bin/true", {"true", "--quiet-probe"}).second, 0);
    EXPECT_EQ(run(tmp_true, {"true", "from-tmp"}).second, 0);
  }
  const std::string text = scrape_until(base, [&](const std::string& t) {
    return value_of(t, series("quiet-probe", "exclude")) >= probes_before + kEach &&
           value_of(t, series("from-tmp", "include")) >= kEach;
  });
  // Each probe's exec left out by quiet-probe (its exit too: the table knows its argv).
  EXPECT_GE(value_of(text, series("quiet-probe", "exclude")), probes_before + kEach) << text;
  EXPECT_GE(value_of(text, series("from-tmp", "include")), kEach) << text;
  EXPECT_GE(value_of(text, series("execs-and-exits", "include")), 2 * kEach) << text;
  EXPECT_GE(value_of(text, "procsentry_rules_excluded_total"), excluded_before + kEach) << text;
  EXPECT_EQ(monitor.stop(), 0) << monitor.stderr_text();
  std::filesystem::remove_all(dir);
}

// /healthz is 503 with the reason while the syslog server is away, 200 again once it is back.
TEST_F(Metrics, HealthFollowsTheSyslogServer) {
  if (!RsyslogServer::available()) GTEST_SKIP() << "rsyslog is not installed (apt-get install rsyslog)";
  std::string why;
  auto server = RsyslogServer::start(&why);
  ASSERT_TRUE(server.has_value()) << why;
  const std::uint16_t tcp = server->tcp_port(), udp = server->udp_port();
  const std::string url = "tcp://127.0.0.1:" + std::to_string(tcp);
  Monitor monitor({"--metrics", "127.0.0.1:0", "--syslog", url});
  const std::string base = metrics_base(monitor);
  ASSERT_FALSE(base.empty()) << monitor.stderr_text();
  // Waits for /healthz to say `body`, running processes meanwhile: the writer notices a lost
  // server when it next has something to send.
  auto health_becomes = [&](int status, const std::string& body) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    Scrape last;
    while (std::chrono::steady_clock::now() < deadline) {
      last = get(base, "/healthz");
      if (last.status == status && last.body == body) return ::testing::AssertionSuccess();
      run("/bin/true", {"true", "health"});
      std::this_thread::sleep_for(50ms);
    }
    return ::testing::AssertionFailure() << "last: " << last.status << " " << last.body;
  };
  EXPECT_TRUE(health_becomes(200, "ok\n"));
  server->stop();
  EXPECT_TRUE(health_becomes(503, "output syslog " + url + ": disconnected\n")) << monitor.stderr_text();
  EXPECT_EQ(value_of(get(base, "/metrics").body, "procsentry_output_up{output=\"syslog " + url + "\"}"), 0);
  server.reset();
  server = RsyslogServer::start_on(tcp, udp, &why);
  ASSERT_TRUE(server.has_value()) << why;
  EXPECT_TRUE(health_becomes(200, "ok\n")) << monitor.stderr_text();
  EXPECT_EQ(monitor.stop(), 0) << monitor.stderr_text();
}

TEST(MetricsCli, ABadAddressOrATakenPortIsOneLineAndStatus2) {
  for (const std::string bad : {"nonsense", "127.0.0.1:70000"}) {
    Captured o = capture(procsentry_binary(), {procsentry_binary(), "--metrics", bad});
    EXPECT_EQ(WEXITSTATUS(o.status), 2) << bad;
    EXPECT_EQ(o.err, "procsentry: --metrics: " + bad + ": expected HOST:PORT, e.g. 127.0.0.1:9464\n");
  }
  // A port this test holds: refused before the sensor loads (no root needed for that).
  httplib::Server holder;
  const int port = holder.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  const std::string taken = "127.0.0.1:" + std::to_string(port);
  Captured o = capture(procsentry_binary(), {procsentry_binary(), "--metrics", taken});
  EXPECT_EQ(WEXITSTATUS(o.status), 2);
  EXPECT_EQ(o.err, "procsentry: --metrics: cannot listen on " + taken + ": Address already in use\n");
}

}  // namespace
}  // namespace procsentry::test

namespace procsentry::test {
namespace {

// The README's acceptance example (issue 10), read from the README itself so that the two
// cannot drift: the file as printed there, then what the README says of it, one by one.
std::string readme_example() {
  std::stringstream readme;
  readme << std::ifstream(PROCSENTRY_README).rdbuf();
  const std::string text = readme.str();
  const std::string opening = "```yaml\n# /etc/procsentry/procsentry.yaml\n";
  const auto begin = text.find(opening);
  if (begin == std::string::npos) return {};
  const auto body = begin + std::string("```yaml\n").size();
  return text.substr(body, text.find("```", body) - body);
}

TEST(Acceptance, TheReadmeExampleWorksVerbatim) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  const std::string yaml = readme_example();
  ASSERT_NE(yaml.find("metrics: 127.0.0.1:9464"), std::string::npos) << "README example not found: " << yaml;
  const auto dir = std::filesystem::path("/tmp") / ("procsentry-acceptance." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string config = (dir / "procsentry.yaml").string();
  std::ofstream(config) << yaml;
  const std::filesystem::path x = dir / "x";
  std::filesystem::copy_file("/bin/true", x);
  const std::string marker = "acceptance-" + std::to_string(getpid());

  Monitor monitor({"--config", config});
  ASSERT_TRUE(monitor.wait_for_stderr("metrics on http://127.0.0.1:9464/metrics")) << monitor.stderr_text();
  const pid_t tagged = run(x.string(), {"x", marker}).first;
  const pid_t probe = run("/usr/bin/true", {"/usr/bin/true", "--quiet-probe", marker}).first;
  const pid_t other = run("/usr/bin/true", {"/usr/bin/true", "other", marker}).first;
  const pid_t secret = run("/bin/true", {"/bin/true", "--password=hunter2", marker}).first;
  ASSERT_TRUE(monitor.wait_for_event([&](const nlohmann::json& e) {
    return e.value("event", "") == "exit" && e.value("pid", 0) == secret;
  })) << monitor.stderr_text();
  const auto scraped = get("http://127.0.0.1:9464", "/metrics");
  ASSERT_EQ(scraped.status, 200);
  auto [status, said] = promtool_check(scraped.body);
  EXPECT_EQ(status, 0) << said;
  ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();
  std::filesystem::remove_all(dir);

  auto rules_of = [](const nlohmann::json& e) {
    return e.contains("rules") ? e["rules"].get<std::vector<std::string>>() : std::vector<std::string>{};
  };
  const auto tagged_exec = monitor.of(tagged, "exec");
  ASSERT_EQ(tagged_exec.size(), 1u);
  EXPECT_EQ(rules_of(tagged_exec[0]), (std::vector<std::string>{"from-tmp", "execs-and-exits"}));
  EXPECT_TRUE(monitor.of(probe, "exec").empty());
  EXPECT_TRUE(monitor.of(probe, "exit").empty());
  const auto other_exec = monitor.of(other, "exec");
  ASSERT_EQ(other_exec.size(), 1u);
  EXPECT_EQ(rules_of(other_exec[0]), std::vector<std::string>{"execs-and-exits"});
  const auto secret_exec = monitor.of(secret, "exec");
  ASSERT_EQ(secret_exec.size(), 1u);
  EXPECT_EQ(secret_exec[0]["argv"][1], "--password=***");
  EXPECT_EQ(secret_exec[0].value("argv_redacted", false), true);
  for (const auto& e : monitor.events()) {
    // A fork runs its parent's image: only a parent in /tmp (a build tree there, for one) makes
    // a fork match an include rule, the first one.
    if (e.value("event", "") == "fork") {
      const std::string image = e.value("image", "");
      EXPECT_TRUE(image.starts_with("/tmp/") || image.starts_with("/dev/shm/")) << e.dump();
      EXPECT_EQ(e["rules"], nlohmann::json::array({"from-tmp"})) << e.dump();
    }
    EXPECT_EQ(e.dump().find("hunter2"), std::string::npos) << e.dump();
  }
}

}  // namespace
}  // namespace procsentry::test
