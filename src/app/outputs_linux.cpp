// The outputs Linux has besides the portable ones: the database (record), --syslog and --kafka.
#include <unistd.h>

#include <climits>

#include "app/outputs.h"
#include "app/store_output.h"
#include "sinks/formats/rfc5424_format.h"
#include "sinks/writers/kafka_writer.h"
#include "sinks/writers/syslog_writer.h"

namespace procsentry {
namespace {

// --syslog URL: RFC 5424 messages to a syslog server.
Result<bool> add_syslog(const AppOptions& options, OutputList& list, std::FILE* diagnostics) {
  if (options.syslog_url.empty()) return false;
  auto target = parse_syslog_url(options.syslog_url);
  if (!target) return target.error();
  list.add(std::make_shared<Rfc5424Formatter>(Rfc5424Formatter::local_hostname(), static_cast<std::uint32_t>(getpid()),
                                              list.json_object()),
           std::make_unique<SyslogWriter>(*target, diagnostics));
  return true;
}

// --kafka BROKERS --kafka-topic TOPIC: JSON Lines' objects as Kafka messages (the module loads here).
Result<bool> add_kafka(const AppOptions& options, OutputList& list, std::FILE* diagnostics) {
  if (options.kafka_brokers.empty()) return false;
  KafkaTarget target{options.kafka_brokers, options.kafka_topic, {}};
  for (const std::string& option : options.kafka_options) {
    auto pair = parse_kafka_option(option);
    if (!pair) return pair.error();
    target.options.push_back(std::move(*pair));
  }
  char host[HOST_NAME_MAX + 1] = {};
  gethostname(host, sizeof(host) - 1);
  auto writer = KafkaWriter::open(target, host, PROCSENTRY_MODULE_DIR, diagnostics);
  if (!writer) return writer.error();
  list.add(list.json_lines(), std::move(*writer));
  return true;
}

constexpr AddOutput kLinuxOutputs[] = {add_store, add_syslog, add_kafka};

}  // namespace

std::span<const AddOutput> platform_outputs() { return kLinuxOutputs; }

bool windows_client() { return false; }

}  // namespace procsentry
