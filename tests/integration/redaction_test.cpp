// Secrets kept out, against the real sensor: execs with secrets in each form reach the live
// JSON, the --output file and the store (record + query) masked, marked argv_redacted, and
// nowhere in clear; a child's parent_argv too; `redact: false` turns it off; SIGHUP reloads
// `redact:` with the rules, and a bad file keeps both.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

class Redaction : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
    dir_ = fs::temp_directory_path() / ("redaction." + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // A secret no other process on the machine prints.
  std::string secret(const std::string& tag) const { return "S3cr3t" + tag + std::to_string(getpid()); }
  fs::path dir_;
};

TEST_F(Redaction, SecretsAreMaskedInTheStreamTheOutputFileAndTheStore) {
  const std::string db = (dir_ / "events.db").string();
  const std::string file = (dir_ / "events.jsonl").string();
  Monitor monitor({"record", "--db", db, "--print", "--output", file});
  const std::vector<std::vector<std::string>> commands = {
      {"true", "--password=" + secret("a"), "--token", secret("b")},
      {"true", "-H", "Authorization: Bearer " + secret("c"), "https://deploy:" + secret("d") + "@example.com/x"},
      {"true", "AKIAIOSFODNN7EXAMPLE", "--client-secret=" + secret("e")},
  };
  const std::vector<std::vector<std::string>> expected = {
      {"true", "--password=***", "--token", "***"},
      {"true", "-H", "Authorization: Bearer ***", "https://deploy:***@example.com/x"},
      {"true", "***", "--client-secret=***"},
  };
  std::vector<pid_t> pids;
  for (const auto& argv : commands) pids.push_back(run("/bin/true", argv).first);
  // A shell with a secret in its own argv: its children's parent_argv carries it masked.
  const pid_t shell =
      run("/bin/sh", {"sh", "-c", "/bin/true one; /bin/true two", "sh", "--api-key=" + secret("f")}).first;
  ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();

  for (std::size_t i = 0; i < pids.size(); ++i) {
    const auto execs = monitor.of(pids[i], "exec");
    ASSERT_EQ(execs.size(), 1u);
    EXPECT_EQ(exact_argv(execs[0]), expected[i]);
    EXPECT_EQ(execs[0].value("argv_redacted", false), true);
  }
  bool child_seen = false;
  for (const auto& e : monitor.events()) {
    if (e.at("event") == "exec" && e.value("ppid", 0) == shell && e.contains("parent_argv")) {
      child_seen = true;
      EXPECT_EQ(e.at("parent_argv").back(), "--api-key=***");
      EXPECT_EQ(e.value("argv_redacted", false), true);
    }
  }
  EXPECT_TRUE(child_seen);
  // Nowhere in clear: not in the live stream, the --output file or the store.
  for (const auto& e : monitor.events()) EXPECT_EQ(e.dump().find("S3cr3t"), std::string::npos) << e.dump();
  const std::string written = read(file);
  EXPECT_EQ(written.find("S3cr3t"), std::string::npos);
  EXPECT_NE(written.find("\"argv_redacted\":true"), std::string::npos);
  Captured query = capture(procsentry_binary(), {procsentry_binary(), "query", "--db", db, "--json"});
  EXPECT_EQ(WEXITSTATUS(query.status), 0) << query.err;
  EXPECT_EQ(query.out.find("S3cr3t"), std::string::npos);
  EXPECT_NE(query.out.find("\"argv\":[\"true\",\"--password=***\",\"--token\",\"***\"]"), std::string::npos);
  EXPECT_NE(query.out.find("\"argv_redacted\":true"), std::string::npos);
  Captured sql =
      capture(procsentry_binary(), {procsentry_binary(), "query", "--db", db, "--sql", "SELECT argv FROM events"});
  EXPECT_EQ(sql.out.find("S3cr3t"), std::string::npos);
}

// The acceptance line, and `redact: false` turning it off.
TEST_F(Redaction, RedactTrueMasksAndRedactFalseTurnsItOff) {
  for (const bool on : {true, false}) {
    const std::string config = write(on ? "on.yaml" : "off.yaml", on ? "redact: true\n" : "redact: false\n");
    Monitor monitor({"--config", config});
    const pid_t pid = run("/bin/true", {"/bin/true", "--password=hunter2"}).first;
    ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();
    const auto execs = monitor.of(pid, "exec");
    ASSERT_EQ(execs.size(), 1u);
    EXPECT_EQ(execs[0].at("argv").back(), on ? "--password=***" : "--password=hunter2");
    EXPECT_EQ(execs[0].contains("argv_redacted"), on);
  }
}

TEST_F(Redaction, SighupReloadsRedactionWithTheRulesAndABadFileKeepsBoth) {
  const std::string config = write("c.yaml", "redact:\n  options: [my-secret-flag]\n");
  Monitor monitor({"--config", config});
  pid_t pid = run("/bin/true", {"true", "--my-secret-flag", secret("g"), "pin=1234"}).first;
  ASSERT_TRUE(
      monitor.wait_for_event([&](const nlohmann::json& e) { return e.at("event") == "exec" && e.at("pid") == pid; }));

  write("c.yaml", "redact:\n  regex: [\"pin=([0-9]+)\"]\n");
  ASSERT_EQ(kill(monitor.pid(), SIGHUP), 0);
  ASSERT_TRUE(monitor.wait_for_stderr("reloaded the rules of " + config));
  const pid_t after = run("/bin/true", {"true", "--my-secret-flag", "visible", "pin=1234"}).first;
  ASSERT_TRUE(
      monitor.wait_for_event([&](const nlohmann::json& e) { return e.at("event") == "exec" && e.at("pid") == after; }));

  write("c.yaml", "redact:\n  regex: [\"(unclosed\"]\n");
  ASSERT_EQ(kill(monitor.pid(), SIGHUP), 0);
  ASSERT_TRUE(monitor.wait_for_stderr("(reload refused: the rules and redaction in force stay)"));
  const pid_t kept = run("/bin/true", {"true", "pin=5678"}).first;
  ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();

  EXPECT_EQ(exact_argv(monitor.of(pid, "exec").at(0)),
            (std::vector<std::string>{"true", "--my-secret-flag", "***", "pin=1234"}));
  EXPECT_EQ(exact_argv(monitor.of(after, "exec").at(0)),
            (std::vector<std::string>{"true", "--my-secret-flag", "visible", "pin=***"}));
  EXPECT_EQ(exact_argv(monitor.of(kept, "exec").at(0)), (std::vector<std::string>{"true", "pin=***"}));
  const std::string err = monitor.stderr_text();
  EXPECT_NE(err.find(config + ":2: redact.regex: bad regex"), std::string::npos) << err;
}

}  // namespace
}  // namespace procsentry::test
