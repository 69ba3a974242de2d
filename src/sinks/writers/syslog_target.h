// Where --syslog sends: "udp://HOST:PORT" or "tcp://HOST:PORT".
#pragma once

#include <string>

#include "core/result.h"

namespace procsentry {

enum class SyslogTransport { udp, tcp };

struct SyslogTarget {
  SyslogTransport transport = SyslogTransport::udp;
  std::string host;  // a name, an IPv4 address, or an IPv6 address (given in brackets)
  std::string port = "514";
  std::string url() const;
};

// "udp://HOST:PORT" or "tcp://HOST:PORT" (PORT defaults to 514; IPv6 as [::1]:514).
Result<SyslogTarget> parse_syslog_url(const std::string& url);

}  // namespace procsentry
