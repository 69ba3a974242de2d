// procsentry-kafka.so: the librdkafka producer behind --kafka (kafka_module.h has the why).
// Defaults: an idempotent producer (no duplicates, per-partition order kept across retries),
// acks=all, zstd, and no message timeout: librdkafka retries a message until the cluster takes
// it, so an outage fills the bounded queues and what does not fit is dropped (and counted)
// before it, never after. `options` from the command line override every default.
#include "sinks/kafka/kafka_module.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

struct ps_kafka_producer {
  rd_kafka_t* kafka = nullptr;
  rd_kafka_topic_t* topic = nullptr;
  // Written by librdkafka's callbacks, which run inside rd_kafka_poll/flush on the output's
  // thread, and read by ps_kafka_stats_get from the same thread; atomics keep a future
  // reader elsewhere (the health check) safe.
  std::atomic<std::uint64_t> produced{0}, delivered{0}, failed{0}, rejected{0};
  std::atomic<std::uint32_t> reachable{1};
  std::mutex error_mutex;  // error_cb may run on librdkafka's own threads
  std::string pending_error, taken_error;
  bool fatal = false;
};

namespace {

void set_error(ps_kafka_producer* p, const std::string& why) {
  std::lock_guard lock(p->error_mutex);
  p->pending_error = why;
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* p = static_cast<ps_kafka_producer*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    p->delivered.fetch_add(1, std::memory_order_relaxed);
    p->reachable.store(1, std::memory_order_relaxed);
    return;
  }
  if (p->failed.fetch_add(1, std::memory_order_relaxed) == 0 && message->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
      message->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    set_error(p, std::string("a message failed for good: ") + rd_kafka_err2str(message->err));
  }
}

void on_error(rd_kafka_t* kafka, int err, const char* reason, void* opaque) {
  auto* p = static_cast<ps_kafka_producer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    p->reachable.store(0, std::memory_order_relaxed);
    set_error(p, std::string("every broker is down: ") + reason);
  } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512] = {};
    rd_kafka_fatal_error(kafka, why, sizeof(why));
    std::lock_guard lock(p->error_mutex);
    p->fatal = true;
    p->pending_error = std::string("fatal producer error: ") + why;
  }
  // Other errors (one broker's connection refused, a timeout) are transient: librdkafka
  // retries them, and the delivery reports say what finally happened.
}

// librdkafka's own log lines would flood stderr during an outage: errors arrive through
// on_error instead, one line per outage.
void on_log(const rd_kafka_t*, int, const char*, const char*) {}

void copy_error(char* error, std::size_t size, const std::string& why) {
  if (size == 0) return;
  std::snprintf(error, size, "%s", why.c_str());
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) std::uint32_t ps_kafka_abi_version(void) { return PS_KAFKA_ABI_VERSION; }

__attribute__((visibility("default"))) ps_kafka_producer* ps_kafka_create(const char* brokers, const char* topic,
                                                                          const char* const* options,
                                                                          std::size_t n_options, char* error,
                                                                          std::size_t error_size) {
  auto* p = new ps_kafka_producer;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char why[512] = {};
  const char* const defaults[][2] = {
      {"bootstrap.servers", brokers},          {"client.id", "procsentry"},
      {"enable.idempotence", "true"},          {"acks", "all"},
      {"compression.codec", "zstd"},           {"message.timeout.ms", "0"},
      {"queue.buffering.max.kbytes", "32768"}, {"queue.buffering.max.messages", "100000"},
  };
  for (const auto& d : defaults) {
    if (rd_kafka_conf_set(conf, d[0], d[1], why, sizeof(why)) != RD_KAFKA_CONF_OK) {
      copy_error(error, error_size, std::string(d[0]) + ": " + why);
      rd_kafka_conf_destroy(conf);
      delete p;
      return nullptr;
    }
  }
  for (std::size_t i = 0; i < n_options; ++i) {
    const char* key = options[2 * i];
    const char* value = options[2 * i + 1];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
      copy_error(error, error_size, std::string("--kafka-option ") + key + ": " + why);
      rd_kafka_conf_destroy(conf);
      delete p;
      return nullptr;
    }
  }
  rd_kafka_conf_set_opaque(conf, p);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_error_cb(conf, on_error);
  rd_kafka_conf_set_log_cb(conf, on_log);
  p->kafka = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
  if (p->kafka == nullptr) {  // conf is still ours on failure
    rd_kafka_conf_destroy(conf);
    copy_error(error, error_size, why);
    delete p;
    return nullptr;
  }
  p->topic = rd_kafka_topic_new(p->kafka, topic, nullptr);
  if (p->topic == nullptr) {
    copy_error(error, error_size, std::string("topic ") + topic + ": " + rd_kafka_err2str(rd_kafka_last_error()));
    rd_kafka_destroy(p->kafka);
    delete p;
    return nullptr;
  }
  return p;
}

__attribute__((visibility("default"))) ps_kafka_produce_result ps_kafka_produce(ps_kafka_producer* p, const char* key,
                                                                                std::size_t key_size, const char* value,
                                                                                std::size_t value_size) {
  {
    std::lock_guard lock(p->error_mutex);
    if (p->fatal) {
      p->rejected.fetch_add(1, std::memory_order_relaxed);
      return PS_KAFKA_REJECTED;
    }
  }
  // RD_KAFKA_PARTITION_UA: the partitioner hashes the key, so one process's events share a
  // partition and keep their order there.
  if (rd_kafka_produce(p->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value), value_size, key,
                       key_size, nullptr) == 0) {
    p->produced.fetch_add(1, std::memory_order_relaxed);
    return PS_KAFKA_QUEUED;
  }
  const rd_kafka_resp_err_t err = rd_kafka_last_error();
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return PS_KAFKA_QUEUE_FULL;
  if (p->rejected.fetch_add(1, std::memory_order_relaxed) == 0) {
    set_error(p, std::string("a message was refused: ") + rd_kafka_err2str(err));
  }
  return PS_KAFKA_REJECTED;
}

__attribute__((visibility("default"))) void ps_kafka_poll(ps_kafka_producer* p, int timeout_ms) {
  rd_kafka_poll(p->kafka, timeout_ms);
}

__attribute__((visibility("default"))) void ps_kafka_flush(ps_kafka_producer* p, int timeout_ms) {
  rd_kafka_flush(p->kafka, timeout_ms);
}

__attribute__((visibility("default"))) void ps_kafka_stats_get(const ps_kafka_producer* p, ps_kafka_stats* stats) {
  *stats = ps_kafka_stats{};
  stats->produced = p->produced.load(std::memory_order_relaxed);
  stats->delivered = p->delivered.load(std::memory_order_relaxed);
  const std::uint64_t failed = p->failed.load(std::memory_order_relaxed);
  // Rejected messages count as failed without ever being produced.
  stats->failed = failed + p->rejected.load(std::memory_order_relaxed);
  const std::uint64_t done = stats->delivered + failed;
  stats->in_flight = stats->produced > done ? stats->produced - done : 0;
  stats->reachable = p->reachable.load(std::memory_order_relaxed);
}

__attribute__((visibility("default"))) const char* ps_kafka_take_error(ps_kafka_producer* p) {
  std::lock_guard lock(p->error_mutex);
  p->taken_error.swap(p->pending_error);
  p->pending_error.clear();
  return p->taken_error.c_str();
}

__attribute__((visibility("default"))) void ps_kafka_purge(ps_kafka_producer* p) {
  rd_kafka_purge(p->kafka, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  // The purged messages' delivery reports (counted as failed) arrive through the poll.
  for (int i = 0; i < 50 && rd_kafka_outq_len(p->kafka) > 0; ++i) rd_kafka_poll(p->kafka, 10);
  rd_kafka_poll(p->kafka, 0);
}

__attribute__((visibility("default"))) void ps_kafka_destroy(ps_kafka_producer* p) {
  if (p == nullptr) return;
  ps_kafka_purge(p);
  rd_kafka_topic_destroy(p->topic);
  rd_kafka_destroy(p->kafka);
  delete p;
}

}  // extern "C"
