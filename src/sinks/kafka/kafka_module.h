/* The C ABI between procsentry and procsentry-kafka.so, the module that holds librdkafka.
 * Linking librdkafka (and the OpenSSL and SASL it brings) costs every run about 2.5 MiB of
 * RSS, so procsentry loads the module with dlopen only when --kafka asks for it. Plain C,
 * fixed-width types: the two sides are built together, and ps_kafka_abi_version() refuses a
 * module of another build. Every call but stats is made from one thread (the output's). */
#ifndef PROCSENTRY_KAFKA_MODULE_H
#define PROCSENTRY_KAFKA_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PS_KAFKA_ABI_VERSION 1u
#define PS_KAFKA_MODULE_NAME "procsentry-kafka.so"

typedef struct ps_kafka_producer ps_kafka_producer;

/* Counters since create; delivered and failed come from librdkafka's delivery reports. */
typedef struct ps_kafka_stats {
  uint64_t produced;  /* accepted by librdkafka's queue */
  uint64_t delivered; /* acknowledged by the cluster (acks=all) */
  uint64_t failed;    /* finally failed after librdkafka's retries, or purged at destroy */
  uint64_t in_flight; /* produced, no delivery report yet */
  uint32_t reachable; /* 0 once every broker is down, 1 again after a delivery or a broker is up */
  uint32_t reserved;
} ps_kafka_stats;

typedef enum ps_kafka_produce_result {
  PS_KAFKA_QUEUED = 0,
  PS_KAFKA_QUEUE_FULL = 1, /* librdkafka's bounded queue is full: poll, then try again */
  PS_KAFKA_REJECTED = 2    /* this message can never be sent (too large...): counted as failed */
} ps_kafka_produce_result;

uint32_t ps_kafka_abi_version(void);
/* `options`: n_options key/value pairs, applied over procsentry's defaults (idempotence,
 * acks=all, zstd). NULL on error, with one line of why in `error`. */
ps_kafka_producer* ps_kafka_create(const char* brokers, const char* topic, const char* const* options, size_t n_options,
                                   char* error, size_t error_size);
ps_kafka_produce_result ps_kafka_produce(ps_kafka_producer* producer, const char* key, size_t key_size,
                                         const char* value, size_t value_size);
/* Serves delivery reports and errors, waiting up to timeout_ms for one. */
void ps_kafka_poll(ps_kafka_producer* producer, int timeout_ms);
/* Waits up to timeout_ms for every message in flight to be delivered or fail. */
void ps_kafka_flush(ps_kafka_producer* producer, int timeout_ms);
void ps_kafka_stats_get(const ps_kafka_producer* producer, ps_kafka_stats* stats);
/* The latest error librdkafka reported that procsentry has not yet been told of ("" none);
 * valid until the next call. */
const char* ps_kafka_take_error(ps_kafka_producer* producer);
/* Gives up on what is still in flight: each such message is counted as failed. */
void ps_kafka_purge(ps_kafka_producer* producer);
/* Purges what is still in flight, then frees everything. */
void ps_kafka_destroy(ps_kafka_producer* producer);

#ifdef __cplusplus
}
#endif

#endif
