#include "sinks/run/writer_thread.h"

#include <fmt/core.h>

#include <chrono>

namespace procsentry {
namespace {

constexpr std::chrono::milliseconds kTick{100};

}  // namespace

WriterThread::WriterThread(std::unique_ptr<Writer> writer, BacklogLimits limits, std::FILE* diagnostics)
    : writer_(std::move(writer)),
      name_(writer_->name()),
      limits_(limits),
      diagnostics_(diagnostics),
      thread_([this](std::stop_token stop) { run(stop); }) {}

WriterThread::~WriterThread() { stop(); }

void WriterThread::push(std::shared_ptr<const FormattedBatch> batch, std::size_t bytes) {
  if (batch->empty() || dead()) return;
  const std::size_t events = batch->size();
  bool outage_began = false;
  std::size_t backlog = 0;
  {
    std::unique_lock lock(mutex_);
    const auto full = [&] {
      // An empty backlog takes any batch: a batch larger than the bound must not wait forever.
      return backlog_events_ != 0 &&
             (backlog_events_ + events > limits_.events || backlog_bytes_ + bytes > limits_.bytes);
    };
    if (limits_.wait_when_full) space_.wait(lock, [&] { return !full() || dead() || finished_; });
    if (full()) {
      if (!behind_) {
        behind_ = true;
        outage_began = true;
        dropped_at_outage_ = dropped_;
        backlog = backlog_events_;
      }
      dropped_ += events;
    } else {
      backlog_events_ += events;
      backlog_bytes_ += bytes;
      queue_.push_back(Queued{std::move(batch), bytes});
    }
  }
  if (outage_began) {
    fmt::print(diagnostics_,
               "procsentry: {} is not keeping up (backlog of {} events full): dropping its events until it catches "
               "up; the other outputs are not affected\n",
               name_, backlog);
  } else {
    wake_.notify_one();
  }
}

void WriterThread::run(std::stop_token stop) {
  for (;;) {
    Queued next;
    std::uint64_t caught_up_after = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kTick, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) {
        if (behind_) {  // everything queued was delivered: the outage is over
          behind_ = false;
          caught_up_after = dropped_ - dropped_at_outage_;
        }
      } else {
        next = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (caught_up_after != 0) {
      fmt::print(diagnostics_, "procsentry: {} caught up ({} of its events were dropped)\n", name_, caught_up_after);
    }
    if (!next.batch) {
      writer_->tick(stop);
      {
        std::lock_guard lock(mutex_);
        not_written_ = writer_->not_written() + skipped_;  // live, for metrics
      }
      if (stop.stop_requested()) break;
      continue;
    }
    const bool was_dead = dead();
    const FormattedBatch& batch = *next.batch;
    if (!was_dead) {
      writer_->write(batch, stop);
      writer_->flush();
    }
    dead_.store(writer_->dead(), std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      backlog_events_ -= batch.size();
      backlog_bytes_ -= next.bytes;
      (was_dead ? skipped_ : delivered_) += batch.size();
      not_written_ = writer_->not_written() + skipped_;
    }
    space_.notify_one();
  }
  {
    std::lock_guard lock(mutex_);
    not_written_ = writer_->not_written() + skipped_;
    finished_ = true;
  }
  space_.notify_one();
}

void WriterThread::stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    thread_.request_stop();  // a writer waiting on it (syslog's reconnects) gives up
    wake_.notify_one();
    thread_.join();
  }
}

WriterCounters WriterThread::counters() const {
  std::lock_guard lock(mutex_);
  return WriterCounters{delivered_, dropped_, not_written_, backlog_events_};
}

std::string WriterThread::summary() const {
  const WriterCounters c = counters();
  return writer_->summary(c.delivered - c.not_written);
}

}  // namespace procsentry
