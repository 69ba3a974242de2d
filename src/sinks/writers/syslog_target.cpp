#include "sinks/writers/syslog_target.h"

#include <fmt/format.h>

namespace procsentry {

std::string SyslogTarget::url() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", transport == SyslogTransport::tcp ? "tcp" : "udp", ipv6 ? "[" : "", host,
                     ipv6 ? "]" : "", port);
}

Result<SyslogTarget> parse_syslog_url(const std::string& url) {
  const auto bad = [&](std::string_view why) {
    return Error{fmt::format("--syslog {}: {} (expected udp://HOST:PORT or tcp://HOST:PORT)", url, why)};
  };
  SyslogTarget target;
  std::string_view rest = url;
  if (rest.starts_with("udp://")) {
    target.transport = SyslogTransport::udp;
  } else if (rest.starts_with("tcp://")) {
    target.transport = SyslogTransport::tcp;
  } else {
    return bad("unknown transport");
  }
  rest.remove_prefix(6);
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unclosed [");
    target.host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return bad("text after ]");
  } else {
    const auto colon = rest.find(':');
    target.host = rest.substr(0, colon);
    rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon);
  }
  if (target.host.empty()) return bad("no host");
  if (rest.starts_with(':')) {
    rest.remove_prefix(1);
    int port = 0;
    for (char c : rest) {
      if (c < '0' || c > '9' || port > 65535) return bad("the port is not a number from 1 to 65535");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return bad("the port is not a number from 1 to 65535");
    target.port = std::string(rest);
  }
  return target;
}

}  // namespace procsentry
