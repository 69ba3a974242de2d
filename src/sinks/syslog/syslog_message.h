// RFC 5424 messages for --syslog, and the URL that says where they go.
//   <14>1 2026-11-24T12:04:01.123456Z host procsentry 812 exec - {"event":"exec",...}
// PRI 14 is facility user, severity info; MSGID is the event kind; no structured data (-);
// MSG is the event's JSON Lines object (docs/json-schema.md), valid UTF-8, without a BOM.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "core/time_format.h"
#include "sinks/fanout/event_snapshot.h"

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

class SyslogFormatter {
 public:
  SyslogFormatter(std::string hostname, std::uint32_t procid);
  // Appends one message, without framing.
  void append(std::string& out, const EventSnapshot& event);

  // This machine's name as RFC 5424 allows it (printable ASCII, at most 255), "-" if none.
  static std::string local_hostname();

 private:
  std::string header_tail_;  // " HOST procsentry PROCID "
  Rfc3339Formatter time_;
};

}  // namespace procsentry
