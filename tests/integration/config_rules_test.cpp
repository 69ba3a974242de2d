// --config with rules against the real sensor: the README's example does what it says (tags,
// leaves out, no forks), SIGHUP reloads the rules and a bad new file keeps the old ones, the
// store keeps the tags and `query --rule` finds them, a bad file stops the start in one line.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

class ConfigRules : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
    // Under /tmp, which the example's first rule names (not TMPDIR: it must be /tmp).
    dir_ = fs::path("/tmp") / ("procsentry-rules." + std::to_string(getpid()));
    fs::create_directories(dir_);
    // The kernel reports the image's resolved path: take `true` as this system resolves it.
    for (const char* candidate : {"/usr/bin/true", "/bin/true"}) {
      if (fs::exists(candidate)) {
        true_ = fs::canonical(candidate).string();
        break;
      }
    }
    marker_ = "rules-" + std::to_string(getpid());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write_config(const std::string& yaml) {
    const fs::path path = dir_ / "procsentry.yaml";
    std::ofstream(path) << yaml;
    return path.string();
  }
  static bool is_exec_with(const nlohmann::json& e, const std::string& arg) {
    if (e.value("event", "") != "exec" || !e.contains("argv")) return false;
    for (const auto& a : e["argv"]) {
      if (a.get<std::string>() == arg) return true;
    }
    return false;
  }
  static std::vector<std::string> rules_of(const nlohmann::json& e) {
    return e.contains("rules") ? e["rules"].get<std::vector<std::string>>() : std::vector<std::string>{};
  }

  fs::path dir_;
  std::string true_;
  std::string marker_;
};

TEST_F(ConfigRules, TheReadmeExampleTagsAndLeavesOut) {
  const std::string config = write_config(R"(
rules:
  include:
    - name: from-tmp
      image: ["/tmp/*", "/dev/shm/*"]
    - name: execs-and-exits
      event: [exec, exit]
  exclude:
    - name: quiet-probe
      image: )" + true_ + R"(
      argv: {contains: ["--quiet-probe"]}
)");
  const fs::path from_tmp = dir_ / "x";
  fs::copy_file(true_, from_tmp);
  Monitor monitor({"--config", config});
  const pid_t tagged = run(from_tmp.string(), {"x", marker_}).first;
  run(true_, {"true", "--quiet-probe", marker_});
  const pid_t other = run(true_, {"true", "other", marker_}).first;
  const pid_t last = run(true_, {"true", "last", marker_}).first;
  ASSERT_TRUE(monitor.wait_for_event([&](const nlohmann::json& e) {
    return e.value("event", "") == "exit" && e.value("pid", 0) == last;
  })) << monitor.stderr_text();
  ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();

  const auto tagged_exec = monitor.of(tagged, "exec");
  ASSERT_EQ(tagged_exec.size(), 1u);
  EXPECT_EQ(rules_of(tagged_exec[0]), (std::vector<std::string>{"from-tmp", "execs-and-exits"}));
  const auto other_exec = monitor.of(other, "exec");
  ASSERT_EQ(other_exec.size(), 1u);
  EXPECT_EQ(rules_of(other_exec[0]), std::vector<std::string>{"execs-and-exits"});
  for (const auto& e : monitor.events()) {
    // A fork runs its parent's image: only a parent in /tmp (a build tree there, for one) makes
    // a fork match an include rule, the first one.
    if (e.value("event", "") == "fork") {
      const std::string image = e.value("image", "");
      EXPECT_TRUE(image.starts_with("/tmp/") || image.starts_with("/dev/shm/")) << e.dump();
      EXPECT_EQ(e["rules"], nlohmann::json::array({"from-tmp"})) << e.dump();
    }
    EXPECT_FALSE(is_exec_with(e, "--quiet-probe")) << e.dump();
    if (e.value("event", "") != "lost") {
      EXPECT_FALSE(rules_of(e).empty()) << e.dump();
    }
  }
  EXPECT_NE(monitor.stderr_text().find("left out by rules"), std::string::npos) << monitor.stderr_text();
}

TEST_F(ConfigRules, SighupReloadsAndABadFileKeepsTheRulesInForce) {
  auto rule = [&](const std::string& name, const std::string& word) {
    return "rules:\n  include:\n    - name: " + name + "\n      argv: {contains: [\"" + word + "\"]}\n";
  };
  const std::string a = marker_ + "-a";
  const std::string b = marker_ + "-b";
  const std::string config = write_config(rule("first", a));
  Monitor monitor({"--config", config});
  // Each round: `a` then `b` and a closing `b` sentinel; returns what each showed.
  int round = 0;
  auto exec_both = [&](std::vector<std::string>& rules_a, std::vector<std::string>& rules_b, bool& a_seen,
                       bool& b_seen) {
    const std::string tag = std::to_string(++round);
    const pid_t pa = run(true_, {"true", a, tag}).first;
    const pid_t pb = run(true_, {"true", b, tag}).first;
    const pid_t sentinel = run(true_, {"true", a, b, "sentinel", tag}).first;
    EXPECT_TRUE(monitor.wait_for_event([&](const nlohmann::json& e) {
      return e.value("event", "") == "exec" && e.value("pid", 0) == sentinel;
    })) << monitor.stderr_text();
    // Stream order: both came before the sentinel, which has arrived.
    auto exec_of = [&](pid_t pid) {
      std::optional<nlohmann::json> found;
      monitor.wait_for_event(
          [&](const nlohmann::json& e) {
            if (e.value("event", "") != "exec" || e.value("pid", 0) != pid) return false;
            found = e;
            return true;
          },
          std::chrono::milliseconds(0));
      return found;
    };
    const auto ea = exec_of(pa);
    const auto eb = exec_of(pb);
    a_seen = ea.has_value();
    b_seen = eb.has_value();
    rules_a = a_seen ? rules_of(*ea) : std::vector<std::string>{};
    rules_b = b_seen ? rules_of(*eb) : std::vector<std::string>{};
  };
  std::vector<std::string> ra, rb;
  bool sa = false, sb = false;
  exec_both(ra, rb, sa, sb);
  EXPECT_TRUE(sa);
  EXPECT_FALSE(sb);
  EXPECT_EQ(ra, std::vector<std::string>{"first"});

  write_config(rule("second", b));
  ASSERT_EQ(kill(monitor.pid(), SIGHUP), 0);
  ASSERT_TRUE(monitor.wait_for_stderr("reloaded the rules of " + config + ": 1 include, 0 exclude"))
      << monitor.stderr_text();
  exec_both(ra, rb, sa, sb);
  EXPECT_FALSE(sa);
  EXPECT_TRUE(sb);
  EXPECT_EQ(rb, std::vector<std::string>{"second"});

  // A file that no longer reads: one line naming its line and key, and `second` stays.
  write_config("rules:\n  include:\n    - name: third\n      image: \"/tmp/[x\"\n");
  ASSERT_EQ(kill(monitor.pid(), SIGHUP), 0);
  ASSERT_TRUE(monitor.wait_for_stderr(config + ":4: rules.include[0].image: glob \"/tmp/[x\" has a '[' without its "
                                               "']' (reload refused: the rules and redaction in force stay)"))
      << monitor.stderr_text();
  exec_both(ra, rb, sa, sb);
  EXPECT_FALSE(sa);
  EXPECT_TRUE(sb);
  EXPECT_EQ(rb, std::vector<std::string>{"second"});
  EXPECT_EQ(monitor.stop(), 0) << monitor.stderr_text();
}

TEST_F(ConfigRules, TheStoreKeepsTheTagsAndQueryFindsThem) {
  const std::string config = write_config(R"(
rules:
  include:
    - name: tagged
      argv: {contains: [")" + marker_ + R"(-tag"]}
    - name: everything
)");
  const std::string db = (dir_ / "events.db").string();
  const pid_t tagged_pid = [&] {
    Monitor monitor({"record", "--db", db, "--print", "--config", config});
    const pid_t pid = run(true_, {"true", marker_ + "-tag"}).first;
    const pid_t plain = run(true_, {"true", marker_ + "-plain"}).first;
    EXPECT_TRUE(monitor.wait_for_event([&](const nlohmann::json& e) {
      return e.value("event", "") == "exit" && e.value("pid", 0) == plain;
    })) << monitor.stderr_text();
    EXPECT_EQ(monitor.stop(), 0) << monitor.stderr_text();
    return pid;
  }();
  const Captured q =
      capture(procsentry_binary(), {procsentry_binary(), "query", "--db", db, "--rule", "tagged", "--json"});
  ASSERT_EQ(q.status, 0) << q.err;
  // Its exec, and its exit: an exit's command line is the one the process table knows.
  std::vector<std::string> kinds;
  for (std::size_t at = 0, end; (end = q.out.find('\n', at)) != std::string::npos; at = end + 1) {
    const auto e = nlohmann::json::parse(q.out.substr(at, end - at));
    EXPECT_EQ(rules_of(e), (std::vector<std::string>{"tagged", "everything"})) << e.dump();
    EXPECT_EQ(e.value("pid", 0), tagged_pid) << e.dump();
    kinds.push_back(e.value("event", ""));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"exec", "exit"})) << q.out;
}

TEST_F(ConfigRules, ABadFileStopsTheStartInOneLineWithStatus2) {
  const std::string config = write_config("json: true\nrules:\n  include:\n    - name: a\n      tty: maybe\n");
  const Captured c = capture(procsentry_binary(), {procsentry_binary(), "--config", config});
  ASSERT_TRUE(WIFEXITED(c.status)) << c.err;
  EXPECT_EQ(WEXITSTATUS(c.status), 2) << c.err;
  EXPECT_EQ(c.err, "procsentry: " + config + ":5: rules.include[0].tty: true or false was expected\n");
  EXPECT_TRUE(c.out.empty()) << c.out;
}

}  // namespace
}  // namespace procsentry::test
