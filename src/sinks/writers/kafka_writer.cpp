#include "sinks/writers/kafka_writer.h"

#include <dlfcn.h>
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <memory>

namespace procsentry {

struct KafkaWriter::Module {
  decltype(&ps_kafka_abi_version) abi_version;
  decltype(&ps_kafka_create) create;
  decltype(&ps_kafka_produce) produce;
  decltype(&ps_kafka_poll) poll;
  decltype(&ps_kafka_flush) flush;
  decltype(&ps_kafka_stats_get) stats;
  decltype(&ps_kafka_take_error) take_error;
  decltype(&ps_kafka_purge) purge;
  decltype(&ps_kafka_destroy) destroy;
};

namespace {

// Once stop is requested, how long a cluster that does not take events may still hold a write.
constexpr auto kGraceAtStop = std::chrono::seconds(1);
// At stop, how long what is in flight may take to be acknowledged.
constexpr int kFlushAtStopMs = 5000;

template <typename F>
bool resolve(void* handle, const char* symbol, F& into) {
  into = reinterpret_cast<F>(dlsym(handle, symbol));
  return into != nullptr;
}

// The module is loaded once and never unloaded: librdkafka's OpenSSL registers exit handlers
// that must not outlive its code.
Result<const KafkaWriter::Module*> load_module(const std::string& module_dir) {
  static KafkaWriter::Module module{};
  static bool loaded = false;
  if (loaded) return &module;
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(self.parent_path() / PS_KAFKA_MODULE_NAME);
  candidates.push_back(std::filesystem::path(module_dir) / PS_KAFKA_MODULE_NAME);
  void* handle = nullptr;
  std::string why;
  for (const auto& path : candidates) {
    if (!std::filesystem::exists(path, ec)) continue;
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) break;
    why = dlerror();
  }
  if (handle == nullptr) {
    if (!why.empty()) return Error{"--kafka: cannot load its module: " + why};
    return Error{
        fmt::format("--kafka needs the module {} (looked in {} and {}): install procsentry's package, or "
                    "build the procsentry-kafka target",
                    PS_KAFKA_MODULE_NAME, candidates.front().parent_path().string(), module_dir)};
  }
  const bool all =
      resolve(handle, "ps_kafka_abi_version", module.abi_version) &&
      resolve(handle, "ps_kafka_create", module.create) && resolve(handle, "ps_kafka_produce", module.produce) &&
      resolve(handle, "ps_kafka_poll", module.poll) && resolve(handle, "ps_kafka_flush", module.flush) &&
      resolve(handle, "ps_kafka_stats_get", module.stats) &&
      resolve(handle, "ps_kafka_take_error", module.take_error) && resolve(handle, "ps_kafka_purge", module.purge) &&
      resolve(handle, "ps_kafka_destroy", module.destroy);
  if (!all || module.abi_version() != PS_KAFKA_ABI_VERSION) {
    return Error{fmt::format("--kafka: {} is not the one this procsentry was built with (reinstall the package)",
                             PS_KAFKA_MODULE_NAME)};
  }
  loaded = true;
  return &module;
}

}  // namespace

Result<std::pair<std::string, std::string>> parse_kafka_option(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Error{
        fmt::format("--kafka-option {}: expected KEY=VALUE (librdkafka's configuration, e.g. "
                    "security.protocol=SASL_SSL)",
                    text)};
  }
  return std::pair{text.substr(0, eq), text.substr(eq + 1)};
}

Result<std::unique_ptr<KafkaWriter>> KafkaWriter::open(const KafkaTarget& target, std::string host,
                                                       const std::string& module_dir, std::FILE* diagnostics) {
  auto module = load_module(module_dir);
  if (!module) return module.error();
  std::vector<const char*> options;
  for (const auto& [key, value] : target.options) {
    options.push_back(key.c_str());
    options.push_back(value.c_str());
  }
  char why[512] = {};
  ps_kafka_producer* producer = (*module)->create(target.brokers.c_str(), target.topic.c_str(), options.data(),
                                                  target.options.size(), why, sizeof(why));
  if (producer == nullptr) return Error{fmt::format("--kafka: {}", why)};
  return std::unique_ptr<KafkaWriter>(new KafkaWriter(**module, producer, target, std::move(host), diagnostics));
}

KafkaWriter::KafkaWriter(const Module& module, ps_kafka_producer* producer, const KafkaTarget& target, std::string host,
                         std::FILE* diagnostics)
    : module_(module),
      producer_(producer),
      brokers_(target.brokers),
      topic_(target.topic),
      key_prefix_(std::move(host) + "/"),
      diagnostics_(diagnostics) {}

KafkaWriter::~KafkaWriter() { module_.destroy(producer_); }

void KafkaWriter::poll(int timeout_ms) {
  module_.poll(producer_, timeout_ms);
  ps_kafka_stats stats{};
  module_.stats(producer_, &stats);
  if (!finished_) failed_ = stats.failed;
  if (const std::string why = module_.take_error(producer_); !why.empty()) {
    fmt::print(diagnostics_,
               "procsentry: {}: {} (librdkafka retries; events wait in a bounded backlog, the other outputs are not "
               "affected)\n",
               name(), why);
  }
  const bool now = stats.reachable != 0;
  if (now && !reachable_.load(std::memory_order_relaxed)) {
    fmt::print(diagnostics_, "procsentry: {}: the cluster takes events again\n", name());
    waiting_reported_ = false;
  }
  reachable_.store(now, std::memory_order_relaxed);
}

void KafkaWriter::write(const FormattedBatch& events, std::stop_token stop) {
  std::optional<std::chrono::steady_clock::time_point> stop_seen;
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::string_view value = events[i];
    if (value.ends_with('\n')) value.remove_suffix(1);  // JSON Lines' separator: a message is the object
    key_.assign(key_prefix_);
    key_ += events.key(i);
    for (;;) {
      const auto result = module_.produce(producer_, key_.data(), key_.size(), value.data(), value.size());
      if (result != PS_KAFKA_QUEUE_FULL) break;
      if (!waiting_reported_) {
        waiting_reported_ = true;
        fmt::print(diagnostics_,
                   "procsentry: {}: the cluster is not taking events (librdkafka's queue is full): they wait in a "
                   "bounded backlog\n",
                   name());
      }
      if (stop.stop_requested()) {
        const auto now = std::chrono::steady_clock::now();
        if (!stop_seen) stop_seen = now;
        if (now - *stop_seen >= kGraceAtStop) {
          given_up_ += events.size() - i;
          return;
        }
      }
      poll(100);
    }
  }
  poll(0);
}

void KafkaWriter::tick(std::stop_token stop) {
  if (finished_) return;
  poll(0);
  if (!stop.stop_requested()) return;
  // The end of the run: what is in flight has a bounded time to be acknowledged; the rest
  // is purged and counted.
  module_.flush(producer_, kFlushAtStopMs);
  module_.purge(producer_);
  poll(0);
  finished_ = true;
}

std::string KafkaWriter::summary(std::uint64_t written) const {
  return fmt::format("{}: {} events acknowledged by the cluster", name(), written);
}

}  // namespace procsentry
