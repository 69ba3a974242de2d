// The Windows client's outputs besides the portable ones (outputs.cpp): the database (record,
// as on Linux: store_output.cpp), --syslog over Winsock; Kafka is refused in one line rather
// than ignored.
#include "app/outputs.h"
#include "app/store_output.h"

#include <windows.h>

#include "platform/machine.h"
#include "sinks/formats/rfc5424_format.h"
#include "sinks/writers/syslog_writer.h"

namespace procsentry {
namespace {

// RFC 5424's HOSTNAME: printable US-ASCII, at most 255 characters, "-" when unknown.
std::string syslog_hostname() {
  std::string out;
  for (char c : host_name()) {
    if (c > ' ' && c < 127 && out.size() < 255) out += c;
  }
  return out.empty() ? "-" : out;
}

// --syslog URL: RFC 5424 messages to a syslog server, as on Linux.
Result<bool> add_syslog(const AppOptions& options, OutputList& list, std::FILE* diagnostics) {
  if (options.syslog_url.empty()) return false;
  auto target = parse_syslog_url(options.syslog_url);
  if (!target) return target.error();
  list.add(std::make_shared<Rfc5424Formatter>(syslog_hostname(), static_cast<std::uint32_t>(GetCurrentProcessId()),
                                              list.json_object()),
           std::make_unique<SyslogWriter>(*target, diagnostics));
  return true;
}

Result<bool> refuse_kafka(const AppOptions& options, OutputList&, std::FILE*) {
  if (options.kafka_brokers.empty()) return false;
  return Error{"--kafka is not available in the Windows client yet (it is on Linux)"};
}

constexpr AddOutput kWindowsOutputs[] = {add_store, add_syslog, refuse_kafka};

}  // namespace

std::span<const AddOutput> platform_outputs() { return kWindowsOutputs; }

bool windows_client() { return true; }

}  // namespace procsentry
