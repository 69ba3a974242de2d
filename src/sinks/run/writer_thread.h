// One writer on its own thread behind a bounded backlog, so that a slow or dead output never
// blocks the event thread or the other outputs. The event thread only appends a shared,
// immutable batch under a short lock hold; when the backlog is full the batch is dropped for
// this output alone, counted, and reported once per outage.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "sinks/writers/writer.h"

namespace procsentry {

struct BacklogLimits {
  std::size_t events = 65'536;
  std::size_t bytes = 64u << 20;
  // Replay has no kernel to keep up with: there, a full backlog makes the producer wait
  // instead of dropping.
  bool wait_when_full = false;
};

struct WriterCounters {
  std::uint64_t delivered = 0;    // handed to the writer
  std::uint64_t dropped = 0;      // never handed to it: the backlog was full
  std::uint64_t not_written = 0;  // handed to it, but it could not write them (so far; final at stop)
  std::uint64_t backlog = 0;      // queued for it, or being delivered, now
};

class WriterThread {
 public:
  WriterThread(std::unique_ptr<Writer> writer, BacklogLimits limits, std::FILE* diagnostics);
  ~WriterThread();  // stop()
  WriterThread(const WriterThread&) = delete;
  WriterThread& operator=(const WriterThread&) = delete;

  // Event thread: queues the batch for this output, or drops it if the backlog is full.
  // `bytes`: batch->approximate_bytes(), computed once for all outputs of its format.
  void push(std::shared_ptr<const FormattedBatch> batch, std::size_t bytes);
  // Delivers what is queued (the writer gives up on a dead server within about a second),
  // then ends the thread. Idempotent.
  void stop();
  bool dead() const { return dead_.load(std::memory_order_relaxed); }
  // Any thread: false while its server is away (Writer::reachable()).
  bool reachable() const { return writer_->reachable(); }
  const std::string& name() const { return name_; }
  WriterCounters counters() const;  // exact once stop() returned
  // The writer's own line for the end of a run ("" if none); once stop() returned.
  std::string summary() const;

 private:
  void run(std::stop_token stop);

  std::unique_ptr<Writer> writer_;
  const std::string name_;
  const BacklogLimits limits_;
  std::FILE* diagnostics_;
  std::atomic<bool> dead_{false};

  mutable std::mutex mutex_;
  // Woken through stopping_, not by waiting on the stop_token: removing a stop callback that
  // request_stop is running waits on libstdc++'s semaphore, which under mingw-w64 (GCC 12, no
  // futex) now and then never woke (a Windows `record` hung at its end under Wine).
  std::condition_variable wake_;
  std::condition_variable space_;  // wait_when_full: the backlog shrank
  struct Queued {
    std::shared_ptr<const FormattedBatch> batch;
    std::size_t bytes = 0;
  };
  std::deque<Queued> queue_;        // guarded by mutex_
  std::size_t backlog_events_ = 0;  // queued or being delivered
  std::size_t backlog_bytes_ = 0;
  bool behind_ = false;                  // dropping since the backlog filled
  std::uint64_t dropped_ = 0;            // all dropped batches' events
  std::uint64_t dropped_at_outage_ = 0;  // dropped_ when the current outage began
  std::uint64_t delivered_ = 0;
  std::uint64_t not_written_ = 0;
  std::uint64_t skipped_ = 0;  // queued before the writer died
  bool finished_ = false;      // the thread ended
  bool stopping_ = false;      // stop() was called

  std::jthread thread_;  // last: starts once everything above exists
};

}  // namespace procsentry
