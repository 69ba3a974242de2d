#include "sinks/formats/rfc5424_format.h"

#include <fmt/format.h>

#include <climits>

namespace procsentry {

Rfc5424Formatter::Rfc5424Formatter(std::string hostname, std::uint32_t procid, std::shared_ptr<JsonEventFormatter> json)
    : header_tail_(fmt::format(" {} procsentry {} ", hostname, procid)),
      json_(json ? std::move(json) : std::make_shared<JsonFormatter>()) {}

void Rfc5424Formatter::append(std::string& out, const Event& event) {
  out += "<14>1 ";
  time_.append(out, event.time_ns);
  // RFC 5424 allows at most six fractional digits: "...SS.123456789Z" -> "...SS.123456Z".
  out.erase(out.size() - 4, 3);
  out += header_tail_;
  out += to_string(event.kind);
  out += " - ";
  json_->append_object(out, event);
}

}  // namespace procsentry
