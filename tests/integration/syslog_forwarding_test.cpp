// --syslog against a real rsyslogd on loopback (support/rsyslog_server.h): every event the
// live stream shows arrives as one RFC 5424 message whose payload is the same JSON object,
// over TCP and UDP, and across a restart of the server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "integration/monitor.h"
#include "support/rsyslog_server.h"

namespace procsentry::test {
namespace {

using namespace std::chrono_literals;

class SyslogForwarding : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
    if (!RsyslogServer::available()) GTEST_SKIP() << "rsyslog is not installed (apt-get install rsyslog)";
    std::string why;
    server_ = RsyslogServer::start(&why);
    ASSERT_TRUE(server_.has_value()) << why;
  }

  // The exec messages rsyslog got from process `pid`.
  std::vector<nlohmann::json> execs_received(pid_t pid) const {
    std::vector<nlohmann::json> out;
    for (const auto& m : server_->messages()) {
      if (m["app_name"] != "procsentry" || m["msgid"] != "exec") continue;
      auto payload = nlohmann::json::parse(m["msg"].get<std::string>());
      if (payload["pid"] == pid) out.push_back(m);
    }
    return out;
  }
  // Waits until rsyslog has one exec message from each pid.
  bool wait_for_execs(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      bool all = true;
      for (pid_t pid : pids) all = all && !execs_received(pid).empty();
      if (all) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
  }
  // Each pid's exec, as the live stream showed it, arrived exactly once, intact.
  void expect_forwarded_intact(const Monitor& monitor, const std::vector<pid_t>& pids) const {
    char host[HOST_NAME_MAX + 1] = {};
    gethostname(host, sizeof(host) - 1);
    for (pid_t pid : pids) {
      const auto live = monitor.of(pid, "exec");
      const auto received = execs_received(pid);
      ASSERT_EQ(live.size(), 1u) << pid;
      ASSERT_EQ(received.size(), 1u) << "pid " << pid << " arrived " << received.size() << " times";
      const auto& m = received[0];
      EXPECT_EQ(nlohmann::json::parse(m["msg"].get<std::string>()), live[0]);
      EXPECT_EQ(m["pri"], 14);  // user.info
      EXPECT_EQ(m["version"], "1");
      EXPECT_EQ(m["hostname"], host);
      EXPECT_EQ(m["procid"], std::to_string(monitor.pid()));
      EXPECT_EQ(m["structured_data"], "-");
      const std::string ts = m["timestamp"];  // microseconds, UTC, from the event's time
      const std::string live_time = live[0]["time"];
      EXPECT_EQ(ts, live_time.substr(0, live_time.size() - 4) + "Z") << ts << " vs " << live_time;
    }
  }

  std::optional<RsyslogServer> server_;
};

// What a hostile or large command line looks like after forwarding: the same JSON.
std::vector<pid_t> run_hostile_processes(const std::string& marker) {
  std::vector<pid_t> pids;
  const std::vector<std::vector<std::string>> argvs = {
      {"echo", marker, "quote\" back\\slash\ttab"},
      {"echo", marker, "\x1b[31mred\x1b[0m\r\nforged line", "caf\xc3\xa9 \xe2\x82\xac"},
      {"echo", marker, "invalid \xff\xfe utf-8"},
      {"echo", marker, std::string(40 * 1024, 'A')},  // past the default 32 KiB cap: truncated, flagged
  };
  for (const auto& argv : argvs) {
    auto [pid, status] = run("/bin/echo", argv);
    EXPECT_EQ(status, 0);
    pids.push_back(pid);
  }
  return pids;
}

TEST_F(SyslogForwarding, OverTcpEveryEventArrivesIntact) {
  Monitor monitor({"--syslog", "tcp://127.0.0.1:" + std::to_string(server_->tcp_port())});
  const auto pids = run_hostile_processes("tcp-" + std::to_string(getpid()));
  ASSERT_TRUE(wait_for_execs(pids, 10s)) << monitor.stderr_text();
  EXPECT_EQ(monitor.stop(), 0);
  expect_forwarded_intact(monitor, pids);
  EXPECT_EQ(monitor.stderr_text().find("syslog"), std::string::npos) << monitor.stderr_text();
}

TEST_F(SyslogForwarding, OverUdpEveryEventArrivesIntact) {
  Monitor monitor({"--syslog", "udp://127.0.0.1:" + std::to_string(server_->udp_port())});
  const auto pids = run_hostile_processes("udp-" + std::to_string(getpid()));
  ASSERT_TRUE(wait_for_execs(pids, 10s)) << monitor.stderr_text();
  EXPECT_EQ(monitor.stop(), 0);
  expect_forwarded_intact(monitor, pids);
}

// The server goes away and comes back on the same port: what happened meanwhile waited in the
// backlog and arrives once the connection is back, each event exactly once.
TEST_F(SyslogForwarding, TcpReconnectsAndDeliversWhatWaited) {
  const std::uint16_t tcp = server_->tcp_port(), udp = server_->udp_port();
  Monitor monitor({"--syslog", "tcp://127.0.0.1:" + std::to_string(tcp)});
  const std::string marker = "reconnect-" + std::to_string(getpid());
  std::vector<pid_t> before{run("/bin/echo", {"echo", marker, "before"}).first};
  ASSERT_TRUE(wait_for_execs(before, 10s)) << monitor.stderr_text();
  const auto first_server = server_->messages();
  server_->stop();

  std::vector<pid_t> during;
  for (int i = 0; i < 20; ++i) during.push_back(run("/bin/echo", {"echo", marker, "during", std::to_string(i)}).first);
  // procsentry notices the closed connection (it says so), then retries until it is back.
  ASSERT_TRUE(monitor.wait_for_stderr("closed the connection", 30s)) << monitor.stderr_text();
  std::string why;
  server_.reset();
  server_ = RsyslogServer::start_on(tcp, udp, &why);
  ASSERT_TRUE(server_.has_value()) << why;
  std::vector<pid_t> after{run("/bin/echo", {"echo", marker, "after"}).first};

  std::vector<pid_t> later = during;
  later.insert(later.end(), after.begin(), after.end());
  ASSERT_TRUE(wait_for_execs(later, 15s)) << monitor.stderr_text();
  EXPECT_EQ(monitor.stop(), 0);
  expect_forwarded_intact(monitor, later);
  const std::string said = monitor.stderr_text();
  EXPECT_NE(said.find("closed the connection"), std::string::npos) << said;
  EXPECT_NE(said.find("connected again"), std::string::npos) << said;
  std::size_t before_seen = 0;
  for (const auto& m : first_server) {
    if (m["msg"].get<std::string>().find(marker) != std::string::npos) ++before_seen;
  }
  EXPECT_EQ(before_seen, 1u);
}

}  // namespace
}  // namespace procsentry::test
