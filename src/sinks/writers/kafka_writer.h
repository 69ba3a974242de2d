// --kafka: every event as one message to a Kafka topic, on the output's own thread, through
// librdkafka in procsentry-kafka.so (sinks/kafka/kafka_module.h: loaded only when asked for,
// so a run without --kafka pays no RSS for librdkafka). Messages are keyed by host and
// process_uid: one process's events land in one partition, in order. When the cluster does
// not take events, librdkafka's bounded queue fills, write() waits, and the output's backlog
// (WriterThread) holds the rest and counts what it drops. Delivery reports count what the
// cluster acknowledged and what finally failed; at stop, what is still in flight has a few
// seconds to arrive, then is counted as not written.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "sinks/kafka/kafka_module.h"
#include "sinks/writers/writer.h"

namespace procsentry {

struct KafkaTarget {
  std::string brokers;  // HOST:PORT[,HOST:PORT...]
  std::string topic;
  std::vector<std::pair<std::string, std::string>> options;  // librdkafka configuration, over our defaults
};

// "key=value" of --kafka-option.
Result<std::pair<std::string, std::string>> parse_kafka_option(const std::string& text);

class KafkaWriter final : public Writer {
 public:
  // Loads the module (beside the procsentry binary, else `module_dir`) and creates the
  // producer; one line of error if either fails.
  static Result<std::unique_ptr<KafkaWriter>> open(const KafkaTarget& target, std::string host,
                                                   const std::string& module_dir, std::FILE* diagnostics);
  ~KafkaWriter() override;
  std::string name() const override { return "kafka " + topic_ + " on " + brokers_; }
  void write(const FormattedBatch& events, std::stop_token stop) override;
  void tick(std::stop_token stop) override;
  std::uint64_t not_written() const override { return given_up_ + failed_; }
  bool reachable() const override { return reachable_.load(std::memory_order_relaxed); }
  bool wants_keys() const override { return true; }
  std::string summary(std::uint64_t written) const override;

  struct Module;  // the module's entry points

 private:
  KafkaWriter(const Module& module, ps_kafka_producer* producer, const KafkaTarget& target, std::string host,
              std::FILE* diagnostics);
  // Serves delivery reports, says what changed (an outage began or ended).
  void poll(int timeout_ms);

  const Module& module_;
  ps_kafka_producer* producer_;
  const std::string brokers_, topic_;
  std::string key_prefix_;  // "HOST/"
  std::string key_;         // the message being keyed
  std::FILE* diagnostics_;
  std::atomic<bool> reachable_{true};
  bool waiting_reported_ = false;  // the queue-full line, once per outage
  bool finished_ = false;          // the final flush ran
  std::uint64_t given_up_ = 0;     // never produced: still waiting for room at stop
  std::uint64_t failed_ = 0;       // produced or refused, never acknowledged
};

}  // namespace procsentry
