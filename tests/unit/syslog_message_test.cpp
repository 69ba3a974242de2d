// --syslog: the URL forms and the exact RFC 5424 message.
#include <gtest/gtest.h>

#include "sinks/formats/rfc5424_format.h"
#include "sinks/writers/syslog_target.h"

namespace procsentry {
namespace {

TEST(SyslogUrl, TransportsHostsAndPorts) {
  auto t = parse_syslog_url("tcp://logs.example.org:6514");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->transport, SyslogTransport::tcp);
  EXPECT_EQ(t->host, "logs.example.org");
  EXPECT_EQ(t->port, "6514");
  t = parse_syslog_url("udp://10.0.0.7");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->transport, SyslogTransport::udp);
  EXPECT_EQ(t->port, "514");
  EXPECT_EQ(t->url(), "udp://10.0.0.7:514");
  t = parse_syslog_url("tcp://[::1]:514");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->url(), "tcp://[::1]:514");
  for (const char* bad : {"logs:514", "http://h:1", "tcp://", "tcp://:514", "tcp://h:0", "tcp://h:65536", "tcp://h:5x",
                          "tcp://[::1", "tcp://[::1]x", "udp://h:"}) {
    EXPECT_FALSE(parse_syslog_url(bad).has_value()) << bad;
  }
  EXPECT_EQ(parse_syslog_url("http://h:1").error().message,
            "--syslog http://h:1: unknown transport (expected udp://HOST:PORT or tcp://HOST:PORT)");
}

TEST(SyslogMessage, IsRfc5424WithTheJsonAsPayload) {
  Rfc5424Formatter formatter("host-1", 812);
  Event e;
  e.kind = EventKind::exec;
  e.time_ns = 1'795'521'841'123'456'789;  // 2026-11-24T12:04:01.123456789Z
  e.task.pid = 4242;
  const std::string raw("ls\0caf\xc3\xa9\0", 9);
  e.argv_raw = Text{raw, true, false, 9};
  e.argv = {std::string_view(raw).substr(0, 2), std::string_view(raw).substr(3, 5)};
  std::string json;
  JsonFormatter().append_object(json, e);
  ASSERT_NE(json.find(R"("argv":["ls","café"])"), std::string::npos) << json;
  std::string out;
  formatter.append(out, e);
  EXPECT_EQ(out, R"(<14>1 2026-11-24T12:04:01.123456Z host-1 procsentry 812 exec - )" + json);
  e.kind = EventKind::lost;
  out.clear();
  formatter.append(out, e);
  EXPECT_NE(out.find(" 812 lost - {"), std::string::npos) << out;
}

TEST(SyslogMessage, TheHostnameIsPrintableAscii) {
  const std::string host = Rfc5424Formatter::local_hostname();
  ASSERT_FALSE(host.empty());
  EXPECT_LE(host.size(), 255u);
  for (char c : host) EXPECT_TRUE(c > ' ' && c < 127) << host;
}

}  // namespace
}  // namespace procsentry
