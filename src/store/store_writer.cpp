#include "store/store_writer.h"

#include <fmt/core.h>

#include "core/clock.h"

namespace procsentry {

void StoreWriter::write(const StoreRow& row) {
  // A batch not begun yet waits for the checkpointer (held_rows.h): begun now, it could not
  // start the WAL over, and the next could not either, each beginning before the checkpoint
  // that the last commit asked for ends.
  if (!held_.empty() || (!store_->batch_open() && store_->checkpoint_pending())) {
    held_.hold(row);
  } else {
    insert(row);
  }
  ++batch_;
  if (batch_ >= kCommitEvents) commit();
}

void StoreWriter::insert(const StoreRow& row) {
  if (batch_failed_) return;
  if (auto r = store_->insert(row); !r) {
    batch_failed_ = true;
    fail(r.error().message);
  }
}

void StoreWriter::release_held(std::size_t most) {
  held_.release([this](const StoreRow& row) { insert(row); }, most);
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
  // The held rows go in a tick's share at a time: all at once they would pause recording as
  // long as inserting kCommitEvents rows takes.
  if (!held_.empty() && !store_->checkpoint_pending()) release_held(kReleasedPerTick);
  if (batch_ > 0 && (stop.stop_requested() || now - last_commit_ >= kCommitInterval)) commit();
  const bool retaining = retention_.keep_ns > 0 || retention_.max_bytes > 0;
  if (!retaining || failing_ || (!retention_left_ && now - last_retention_ < kRetentionInterval)) return;
  if (!retention_left_) last_retention_ = now;
  // Retention waits for the checkpointer: its transactions, back to back, never let a
  // checkpoint copy all of the WAL before the next began, so the WAL never started over, the
  // thread checkpointed (two fsyncs) after every commit and the writer copied the WAL itself in
  // its commits past kCheckpointLag: the recording's longest pauses (bench/store_scale). The
  // open batch waits too (a commit per tick would keep the WAL from starting over as well).
  retention_left_ = true;
  if (store_->checkpoint_pending() || !held_.empty()) return;  // the held rows' commit would insert them all
  if (batch_ > 0) {                                            // retention's transactions come after the open batch's
    commit();
    if (store_->checkpoint_pending()) return;
  }
  // Chunks of kRetentionChunk events, for at most kRetentionSlice: a day's deletion from a
  // big store goes on at the next ticks, with the events' commits in between.
  const std::int64_t now_ns = ClockMapping::now_epoch_ns();
  for (;;) {
    auto r = store_->apply_retention_step(now_ns, retention_.keep_ns, retention_.max_bytes, now + kRetentionSlice);
    if (!r || *r == 0) {
      retention_left_ = false;
      if (!r) fail(r.error().message);
      return;
    }
    if (std::chrono::steady_clock::now() - now >= kRetentionSlice || store_->checkpoint_pending()) return;
  }
}

void StoreWriter::commit() {
  release_held();
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
