// The Windows client has only the portable outputs (outputs.cpp): the database, syslog and Kafka
// are refused in one line rather than ignored.
#include "app/outputs.h"

namespace procsentry {
namespace {

Result<bool> refuse_record(const AppOptions& options, OutputList&, std::FILE*) {
  if (options.command != Command::record) return false;
  return Error{"record is not available in the Windows client yet (it is on Linux)"};
}

Result<bool> refuse_syslog(const AppOptions& options, OutputList&, std::FILE*) {
  if (options.syslog_url.empty()) return false;
  return Error{"--syslog is not available in the Windows client yet (it is on Linux)"};
}

Result<bool> refuse_kafka(const AppOptions& options, OutputList&, std::FILE*) {
  if (options.kafka_brokers.empty()) return false;
  return Error{"--kafka is not available in the Windows client yet (it is on Linux)"};
}

constexpr AddOutput kWindowsOutputs[] = {refuse_record, refuse_syslog, refuse_kafka};

}  // namespace

std::span<const AddOutput> platform_outputs() { return kWindowsOutputs; }

bool windows_client() { return true; }

}  // namespace procsentry
