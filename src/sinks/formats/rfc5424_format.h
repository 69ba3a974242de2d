// RFC 5424 messages for --syslog:
//   <14>1 2026-11-24T12:04:01.123456Z host procsentry 812 exec - {"event":"exec",...}
// PRI 14 is facility user, severity info; MSGID is the event kind; no structured data (-);
// MSG is the event's JSON object in --format's schema (native: docs/json-schema.md), valid UTF-8,
// without a BOM.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/time_format.h"
#include "sinks/formats/json_format.h"

namespace procsentry {

class Rfc5424Formatter final : public Formatter {
 public:
  // `json`: the message body's format (native when null; --format).
  Rfc5424Formatter(std::string hostname, std::uint32_t procid, std::shared_ptr<JsonEventFormatter> json = nullptr);
  // Appends one message, without framing (the writer frames it for its transport).
  void append(std::string& out, const Event& event) override;

  // This machine's name as RFC 5424 allows it (printable ASCII, at most 255), "-" if none.
  static std::string local_hostname();

 private:
  std::string header_tail_;  // " HOST procsentry PROCID "
  Rfc3339Formatter time_;
  std::shared_ptr<JsonEventFormatter> json_;
};

}  // namespace procsentry
