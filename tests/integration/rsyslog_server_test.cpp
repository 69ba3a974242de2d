// Self-test of support/rsyslog_server.h: RFC 5424 messages sent by hand over UDP and over TCP
// (RFC 6587 octet counting) must come out of a real rsyslogd with every field intact.
#include "support/rsyslog_server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace procsentry::test {
namespace {

using namespace std::chrono_literals;

// The parts of one RFC 5424 message; wire() is what a sender puts on the network.
struct Syslog5424 {
  int pri = 134;  // local0.info
  std::string timestamp = "2024-05-06T07:08:09.123456+02:00";
  std::string hostname = "host.example";
  std::string app_name = "procsentry";
  std::string procid = "4242";
  std::string msgid = "EXEC";
  std::string structured_data = R"([ex@32473 path="/bin/a\"b\\c" n="1"][meta x="y"])";
  std::string msg;

  std::string wire() const {
    return "<" + std::to_string(pri) + ">1 " + timestamp + " " + hostname + " " + app_name + " " + procid + " " +
           msgid + " " + structured_data + " " + msg;
  }
};

// Quote, backslash, tab, UTF-8 (2-, 3- and 4-byte sequences), leading spaces and a trailing LF.
const std::string kTricky = "  quote \" backslash \\ tab \t grüße € 日本 😀 \\n end\n";

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

void send_udp(std::uint16_t port, const std::string& datagram) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  const sockaddr_in addr = loopback(port);
  const ssize_t sent =
      ::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::close(fd);
  ASSERT_EQ(sent, static_cast<ssize_t>(datagram.size()));
}

class TcpSender {
 public:
  explicit TcpSender(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    const sockaddr_in addr = loopback(port);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  TcpSender(const TcpSender&) = delete;
  TcpSender& operator=(const TcpSender&) = delete;
  ~TcpSender() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

  // RFC 6587 octet counting: "LEN SP MSG", LEN in bytes.
  bool send_frame(std::string_view msg) {
    const std::string frame = std::to_string(msg.size()) + " " + std::string(msg);
    for (std::size_t off = 0; off < frame.size();) {
      const ssize_t n = ::send(fd_, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  bool connected_ = false;
};

void expect_intact(const nlohmann::json& got, const Syslog5424& sent, std::string_view input) {
  EXPECT_EQ(got.at("pri"), sent.pri);
  EXPECT_EQ(got.at("version"), "1");
  EXPECT_EQ(got.at("timestamp"), sent.timestamp);
  EXPECT_EQ(got.at("hostname"), sent.hostname);
  EXPECT_EQ(got.at("app_name"), sent.app_name);
  EXPECT_EQ(got.at("procid"), sent.procid);
  EXPECT_EQ(got.at("msgid"), sent.msgid);
  EXPECT_EQ(got.at("structured_data"), sent.structured_data);
  EXPECT_EQ(got.at("msg").get<std::string>(), sent.msg);  // byte for byte
  EXPECT_EQ(got.at("raw").get<std::string>(), sent.wire());
  EXPECT_EQ(got.at("input"), input);
}

class RsyslogServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RsyslogServer::available()) GTEST_SKIP() << "no /usr/sbin/rsyslogd (apt-get install rsyslog)";
    std::string why;
    server_ = RsyslogServer::start(&why);
    ASSERT_TRUE(server_) << why;
    ASSERT_NE(server_->tcp_port(), 0);
    ASSERT_NE(server_->udp_port(), 0);
  }
  std::optional<RsyslogServer> server_;
};

TEST_F(RsyslogServerTest, UdpMessagesArriveIntact) {
  Syslog5424 tricky;
  tricky.msg = kTricky;
  // Far above rsyslog's default 8 KiB limit, close to the 65507-byte UDP maximum.
  Syslog5424 big;
  big.procid = "-";
  big.msgid = "-";
  big.structured_data = "-";
  big.msg = std::string(60000, 'u');
  send_udp(server_->udp_port(), tricky.wire());
  send_udp(server_->udp_port(), big.wire());

  ASSERT_TRUE(server_->wait_for(2, 5s));
  const auto got = server_->messages();
  ASSERT_EQ(got.size(), 2U);
  expect_intact(got[0], tricky, "imudp");
  expect_intact(got[1], big, "imudp");
}

TEST_F(RsyslogServerTest, TcpOctetCountedMessagesArriveIntact) {
  Syslog5424 tricky;
  tricky.msg = kTricky;
  Syslog5424 big;  // 100 KiB: above 64 KiB and above imtcp's usual limits
  big.msg.reserve(100 * 1024);
  while (big.msg.size() < 100 * 1024) big.msg += "0123456789abcdef";
  Syslog5424 nil;  // nil header fields and an empty MSG
  nil.hostname = nil.app_name = nil.procid = nil.msgid = nil.structured_data = "-";
  nil.timestamp = "2024-05-06T05:08:09Z";

  TcpSender sender(server_->tcp_port());
  ASSERT_TRUE(sender.connected());
  ASSERT_TRUE(sender.send_frame(tricky.wire()));
  ASSERT_TRUE(sender.send_frame(big.wire()));
  ASSERT_TRUE(sender.send_frame(nil.wire()));

  ASSERT_TRUE(server_->wait_for(3, 5s));
  const auto got = server_->messages();
  ASSERT_EQ(got.size(), 3U);
  expect_intact(got[0], tricky, "imtcp");
  expect_intact(got[1], big, "imtcp");
  expect_intact(got[2], nil, "imtcp");
}

TEST_F(RsyslogServerTest, RestartsOnTheSameTcpPort) {
  const std::uint16_t tcp = server_->tcp_port();
  const std::uint16_t udp = server_->udp_port();
  Syslog5424 before;
  before.msg = "before restart";
  {
    TcpSender sender(tcp);
    ASSERT_TRUE(sender.connected());
    ASSERT_TRUE(sender.send_frame(before.wire()));
    ASSERT_TRUE(server_->wait_for(1, 5s));
  }
  server_->stop();
  EXPECT_FALSE(server_->running());
  EXPECT_FALSE(TcpSender(tcp).connected());
  ASSERT_EQ(server_->messages().size(), 1U);  // still readable after stop()

  std::string why;
  auto restarted = RsyslogServer::start_on(tcp, udp, &why);
  ASSERT_TRUE(restarted) << why;
  EXPECT_EQ(restarted->tcp_port(), tcp);
  EXPECT_EQ(restarted->udp_port(), udp);

  Syslog5424 after;
  after.msg = "after restart";
  TcpSender sender(tcp);
  ASSERT_TRUE(sender.connected());
  ASSERT_TRUE(sender.send_frame(after.wire()));
  ASSERT_TRUE(restarted->wait_for(1, 5s));
  const auto got = restarted->messages();
  ASSERT_EQ(got.size(), 1U);
  expect_intact(got[0], after, "imtcp");
}

TEST(RsyslogServerStartTest, ReportsWhyWhenThePortIsTaken) {
  if (!RsyslogServer::available()) GTEST_SKIP() << "no /usr/sbin/rsyslogd";
  std::string why;
  auto first = RsyslogServer::start(&why);
  ASSERT_TRUE(first) << why;
  // A second instance on the same ports cannot bind: start_on must fail, not hang or succeed.
  auto second = RsyslogServer::start_on(first->tcp_port(), first->udp_port(), &why, 3s);
  EXPECT_FALSE(second);
  EXPECT_NE(why.find("rsyslogd"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos) << why;
}

}  // namespace
}  // namespace procsentry::test
