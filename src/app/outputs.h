// Where an invocation's events go. An output is a formatter (sinks/formats) and a writer
// (sinks/writers); each output the command line can ask for is one function that adds it
// (outputs.cpp for every platform, outputs_linux.cpp / outputs_windows.cpp for the rest).
// One output whose writer fits the event thread (the live view alone) is written there;
// otherwise every output, the live view included, runs on its own thread behind a
// FanoutSink, so none can hold up another.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "app/options.h"
#include "core/result.h"
#include "metrics/metrics_snapshot.h"
#include "sinks/run/fanout_sink.h"
#include "sinks/run/inline_sink.h"
#include "sinks/sink.h"
#include "sinks/writers/writer.h"

namespace procsentry {

class OutputList {
 public:
  explicit OutputList(const AppOptions& options);
  void add(std::shared_ptr<Formatter> format, std::unique_ptr<Writer> writer) {
    outputs_.push_back(Output{std::move(format), std::move(writer)});
  }
  // One JSON Lines formatter (in --format's schema) for every output that writes JSON Lines:
  // formatted once.
  std::shared_ptr<Formatter> json_lines();
  // A JSON formatter of its own, in --format's schema (for what frames the object: syslog).
  std::shared_ptr<JsonEventFormatter> json_object() const { return make_json_formatter(format_, source_); }
  std::vector<Output>& outputs() { return outputs_; }

 private:
  EventFormat format_;
  EventSource source_;
  std::shared_ptr<Formatter> json_lines_;
  std::vector<Output> outputs_;
};

// Adds its output to the list when the options ask for it; one line of error if it cannot.
using AddOutput = Result<bool> (*)(const AppOptions& options, OutputList& list, std::FILE* diagnostics);
// The outputs only this platform has, in the order they are added (before the portable ones).
std::span<const AddOutput> platform_outputs();
// Whether this is the Windows client (the schema formats name the OS).
bool windows_client();

class Outputs {
 public:
  // One line of error if an output cannot start (bad URL, unwritable file, database).
  static Result<Outputs> open(const AppOptions& options, std::FILE* diagnostics);
  Sink& sink() { return *sink_; }
  // Flushes, lets every output deliver what it holds, and reports: each output's own line
  // (the recording's count) and, for each output that lost events, how many and why.
  void finish(std::FILE* diagnostics);
  // Event thread: each output's counters now, for --metrics (replaces `into`'s entries).
  void report(std::vector<OutputMetrics>& into) const;
  // Event thread: each output's drops so far, for heartbeat events (the outputs outlive it).
  std::function<void(std::vector<HeartbeatCounts::OutputDrops>&)> drops_report() const;

 private:
  std::unique_ptr<Sink> sink_;
  FanoutSink* fanout_ = nullptr;  // sink_, when the outputs run on their own threads
  InlineSink* inline_ = nullptr;  // sink_, when one output runs on the event thread
};

}  // namespace procsentry
