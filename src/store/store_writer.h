// `procsentry record`: rows (store_row.h) into the EventStore in batched transactions, on
// the store's own thread. A failing database (full disk, unwritable file) costs only the
// events of the failed batches: it is reported in one line, counted, and recording resumes
// by itself when a commit works again. While the WAL checkpointer works, retention waits and a
// batch not begun yet holds its rows (held_rows.h), so that the WAL starts over after each
// checkpoint (store_writer.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "sinks/writers/writer.h"
#include "store/event_store.h"
#include "store/held_rows.h"

namespace procsentry {

struct RetentionOptions {
  std::int64_t keep_ns = 0;    // delete events older than this (0: keep all)
  std::int64_t max_bytes = 0;  // keep the database's used pages under this (0: no bound)
};

class StoreWriter final : public Writer {
 public:
  // A crash (kill -9) loses at most the open batch: what arrived since the last commit,
  // at most kCommitInterval or kCommitEvents events (plus one delivery).
  static constexpr std::chrono::milliseconds kCommitInterval{250};
  static constexpr std::size_t kCommitEvents = 5000;
  static constexpr std::chrono::seconds kRetentionInterval{10};
  // Retention's time per tick while it has more to delete (EventStore::kRetentionChunk events
  // per transaction): the longest pause it adds to recording.
  static constexpr std::chrono::milliseconds kRetentionSlice{20};
  // Rows held while a checkpoint ran (held_rows.h) inserted per tick once it has ended: about
  // 15 ms of the store thread's work.
  static constexpr std::size_t kReleasedPerTick = 1000;

  StoreWriter(EventStore& store, RetentionOptions retention, std::FILE* diagnostics)
      : store_(&store), retention_(retention), diagnostics_(diagnostics) {}
  // The writer owns the store (an output of `record`).
  StoreWriter(std::unique_ptr<EventStore> store, RetentionOptions retention, std::FILE* diagnostics)
      : StoreWriter(*store, retention, diagnostics) {
    owned_ = std::move(store);
  }
  ~StoreWriter() override { finish(); }
  std::string name() const override { return "the database " + store_->path(); }
  // `rows`: made by StoreRowFormatter.
  void write(const FormattedBatch& rows, std::stop_token stop) override;
  // Commits when the batch is due; applies retention when due. At stop, commits what is left.
  void tick(std::stop_token stop) override;
  std::uint64_t not_written() const override { return dropped_; }
  std::string summary(std::uint64_t written) const override;

  void write(const StoreRow& row);
  void finish() {
    if (batch_ > 0) commit();
  }
  std::uint64_t stored() const { return stored_; }
  std::uint64_t dropped() const { return dropped_; }  // events of batches that failed

 private:
  void commit();  // the held rows first
  void insert(const StoreRow& row);
  void release_held(std::size_t most = SIZE_MAX);
  void fail(const std::string& what);

  EventStore* store_;
  std::unique_ptr<EventStore> owned_;  // store_, when the writer owns it
  RetentionOptions retention_;
  std::FILE* diagnostics_;
  std::size_t batch_ = 0;  // rows of the open batch, held ones included
  HeldRows held_;
  bool batch_failed_ = false;
  bool failing_ = false;
  bool retention_left_ = false;  // the last tick's retention did not finish
  std::uint64_t stored_ = 0;
  std::uint64_t dropped_ = 0;
  std::chrono::steady_clock::time_point last_commit_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_retention_{};
};

}  // namespace procsentry
