// `procsentry record`: events into the EventStore in batched transactions. A failing
// database (full disk, unwritable file) costs only the events of the failed batches: it is
// reported in one line, counted, and recording resumes by itself when a commit works again.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "sinks/json_lines/json_lines_sink.h"
#include "sinks/sink.h"
#include "store/event_store.h"

namespace procsentry {

struct RetentionOptions {
  std::int64_t keep_ns = 0;    // delete events older than this (0: keep all)
  std::int64_t max_bytes = 0;  // keep the database's used pages under this (0: no bound)
};

class StoreSink final : public Sink {
 public:
  // A crash (kill -9) loses at most the open batch: what arrived since the last commit,
  // at most kCommitInterval or kCommitEvents events (plus one poll's batch).
  static constexpr std::chrono::milliseconds kCommitInterval{250};
  static constexpr std::size_t kCommitEvents = 5000;
  static constexpr std::chrono::seconds kRetentionInterval{10};

  StoreSink(EventStore& store, RetentionOptions retention, std::FILE* diagnostics)
      : store_(store), retention_(retention), diagnostics_(diagnostics), json_(-1) {}
  ~StoreSink() override;
  void write(const Event& event) override;
  void flush() override;
  // Commits what is left (at a clean stop).
  void finish() {
    if (batch_ > 0) commit();
  }

  std::uint64_t stored() const { return stored_; }
  std::uint64_t dropped() const { return dropped_; }  // events of batches that failed

 private:
  void commit();
  void fail(const std::string& what);

  EventStore& store_;
  RetentionOptions retention_;
  std::FILE* diagnostics_;
  JsonLinesSink json_;  // formats only
  std::string line_;
  std::size_t batch_ = 0;
  bool batch_failed_ = false;
  bool failing_ = false;
  std::uint64_t stored_ = 0;
  std::uint64_t dropped_ = 0;
  std::chrono::steady_clock::time_point last_commit_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_retention_{};
};

}  // namespace procsentry
