#include "metrics/prometheus_text.h"

#include <fmt/core.h>

#include "core/names.h"

namespace procsentry {
namespace {

// Label values may hold anything a config file or URL does: \, " and newline are escaped.
std::string label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  // One family: its HELP and TYPE, then its samples.
  Exposition& family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    name_ = name;
    return *this;
  }
  Exposition& sample(std::uint64_t value, std::string_view labels = {}) {
    if (labels.empty()) {
      fmt::format_to(std::back_inserter(out_), "{} {}\n", name_, value);
    } else {
      fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name_, labels, value);
    }
    return *this;
  }
  Exposition& sample_double(double value) {
    fmt::format_to(std::back_inserter(out_), "{} {:.3f}\n", name_, value);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  std::string_view name_;
};

}  // namespace

std::string render_prometheus(const MetricsSnapshot& s, std::string_view version) {
  Exposition e;
  e.family("procsentry_build_info", "gauge", "procsentry's version; always 1")
      .sample(1, fmt::format("version=\"{}\"", label(version)));
  e.family("procsentry_start_time_seconds", "gauge", "when the monitor started, in seconds since the epoch")
      .sample_double(s.start_time_seconds);
  e.family("procsentry_sensor_attached", "gauge", "1 while the sensor is attached and read").sample(s.sensor_attached);

  e.family("procsentry_events_total", "counter", "events that came through the pipeline, by kind (before rules)");
  for (std::size_t kind = 1; kind < s.events_by_kind.size(); ++kind) {
    if (static_cast<EventKind>(kind) == EventKind::lost) continue;       // counted as kernel_lost
    if (static_cast<EventKind>(kind) == EventKind::heartbeat) continue;  // procsentry's own, not the pipeline's
    e.sample(s.events_by_kind[kind], fmt::format("kind=\"{}\"", to_string(static_cast<EventKind>(kind))));
  }
  e.family("procsentry_kernel_lost_total", "counter", "records the sensor could not deliver, by cause");
  for (std::size_t cause = 1; cause < s.kernel_lost_by_cause.size(); ++cause) {
    e.sample(s.kernel_lost_by_cause[cause],
             fmt::format("cause=\"{}\"", lost_cause_name(static_cast<std::uint32_t>(cause))));
  }
  e.family("procsentry_decode_errors_total", "counter", "malformed records skipped").sample(s.decode_errors);

  e.family("procsentry_output_written_total", "counter", "events handed to each output's writer");
  for (const auto& o : s.outputs) e.sample(o.written, fmt::format("output=\"{}\"", label(o.name)));
  e.family("procsentry_output_dropped_total", "counter", "events an output never got: its backlog was full");
  for (const auto& o : s.outputs) e.sample(o.dropped, fmt::format("output=\"{}\"", label(o.name)));
  e.family("procsentry_output_failed_total", "counter",
           "events an output got but could not write (a full disk, a refused message, a Kafka delivery that "
           "finally failed)");
  for (const auto& o : s.outputs) e.sample(o.failed, fmt::format("output=\"{}\"", label(o.name)));
  e.family("procsentry_output_backlog_events", "gauge", "events waiting for each output");
  for (const auto& o : s.outputs) e.sample(o.backlog, fmt::format("output=\"{}\"", label(o.name)));
  e.family("procsentry_output_up", "gauge", "1 while an output can write (its server connected, its reader there)");
  for (const auto& o : s.outputs) e.sample(!o.dead && o.reachable, fmt::format("output=\"{}\"", label(o.name)));

  e.family("procsentry_rule_matches_total", "counter",
           "events each configuration rule matched (include: tagged; exclude: left out), since the rules were "
           "(re)loaded");
  for (const auto& r : s.rules) {
    e.sample(r.matches, fmt::format("rule=\"{}\",list=\"{}\"", label(r.name), r.include ? "include" : "exclude"));
  }
  e.family("procsentry_rules_excluded_total", "counter", "events the configuration's rules left out")
      .sample(s.excluded_by_rules);
  if (s.redacted_events) {
    e.family("procsentry_redacted_events_total", "counter", "events whose command line had values masked")
        .sample(*s.redacted_events);
  }

  e.family("procsentry_process_table_processes", "gauge", "processes the process table knows").sample(s.processes);
  if (s.hash_cache_hits && s.hash_cache_misses) {
    e.family("procsentry_hash_cache_hits_total", "counter", "exec'd images whose hash was cached (--hash)")
        .sample(*s.hash_cache_hits);
    e.family("procsentry_hash_cache_misses_total", "counter", "exec'd images handed to the hashing thread (--hash)")
        .sample(*s.hash_cache_misses);
  }
  if (s.ring_used_bytes && s.ring_size_bytes) {
    e.family("procsentry_ring_buffer_used_bytes", "gauge",
             "bytes in the BPF ring buffer not yet read, sampled between polls")
        .sample(*s.ring_used_bytes);
    e.family("procsentry_ring_buffer_size_bytes", "gauge", "size of the BPF ring buffer").sample(*s.ring_size_bytes);
  }
  return e.take();
}

HealthVerdict health_of(const MetricsSnapshot& s) {
  if (!s.sensor_attached) return {false, "sensor not attached"};
  for (const auto& o : s.outputs) {
    if (o.dead) return {false, fmt::format("output {}: cannot write any more", o.name)};
    if (!o.reachable) return {false, fmt::format("output {}: disconnected", o.name)};
  }
  return {true, "ok"};
}

}  // namespace procsentry
