#include "store/store_writer.h"

#include <fmt/core.h>

#include "core/clock.h"

namespace procsentry {

void StoreWriter::write(const StoreRow& row) {
  if (!batch_failed_) {
    if (auto r = store_->insert(row); !r) {
      batch_failed_ = true;
      fail(r.error().message);
    }
  }
  ++batch_;
  if (batch_ >= kCommitEvents) commit();
}

void StoreWriter::write(const FormattedBatch& rows, std::stop_token stop) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (auto row = StoreRow::parse(rows[i])) {
      write(*row);
    } else {
      ++dropped_;  // not a row: a formatter other than StoreRowFormatter feeds this writer
    }
  }
  tick(stop);
}

std::string StoreWriter::summary(std::uint64_t written) const {
  return fmt::format("{} events recorded to {}", written, store_->path());
}

void StoreWriter::tick(std::stop_token stop) {
  auto now = std::chrono::steady_clock::now();
  if (batch_ > 0 && (stop.stop_requested() || now - last_commit_ >= kCommitInterval)) commit();
  const bool retaining = retention_.keep_ns > 0 || retention_.max_bytes > 0;
  if (!retaining || failing_ || (!retention_left_ && now - last_retention_ < kRetentionInterval)) return;
  if (!retention_left_) last_retention_ = now;
  if (batch_ > 0) commit();  // retention's transactions come after the open batch's
  // Chunks of kRetentionChunk events, for at most kRetentionSlice: a day's deletion from a
  // big store goes on at the next ticks, with the events' commits in between.
  retention_left_ = false;
  const std::int64_t now_ns = ClockMapping::now_epoch_ns();
  for (;;) {
    // Retention waits for the checkpointer: its transactions, back to back, never let a
    // checkpoint copy all of the WAL before the next began, so the WAL never started over and
    // the thread checkpointed (two fsyncs) after every commit, the writer's own copy past
    // kCheckpointLag in its commits: the recording's longest pauses (bench/store_scale).
    if (store_->checkpoint_pending()) {
      retention_left_ = true;
      return;
    }
    auto r = store_->apply_retention_step(now_ns, retention_.keep_ns, retention_.max_bytes, now + kRetentionSlice);
    if (!r) {
      fail(r.error().message);
      return;
    }
    if (*r == 0) return;
    if (std::chrono::steady_clock::now() - now >= kRetentionSlice) {
      retention_left_ = true;
      return;
    }
  }
}

void StoreWriter::commit() {
  last_commit_ = std::chrono::steady_clock::now();
  bool ok = !batch_failed_;
  if (ok) {
    auto r = store_->commit();
    if (!r) {
      fail(r.error().message);
      ok = false;
    }
  } else {
    store_->rollback();  // the whole batch goes, so `dropped` counts exactly
  }
  if (ok) {
    stored_ += batch_;
    if (failing_) {
      fmt::print(diagnostics_, "procsentry: recording resumed ({} events were not recorded)\n", dropped_);
      failing_ = false;
    }
  } else {
    dropped_ += batch_;
  }
  batch_ = 0;
  batch_failed_ = false;
}

void StoreWriter::fail(const std::string& what) {
  if (failing_) return;  // one line per outage, not one per batch
  failing_ = true;
  fmt::print(diagnostics_,
             "procsentry: cannot record to the database: {} (the live stream continues; recording "
             "resumes when it can write again)\n",
             what);
}

}  // namespace procsentry
