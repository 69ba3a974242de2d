// A writer takes formatted events somewhere: a file descriptor, a rotating file, a syslog
// socket, the database. It sees bytes only (sinks/formats made them), a batch at a time.
// One writer is called from one thread only (its WriterThread, or the event thread for the
// live view alone), so it needs no locking of its own.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/formats/formatter.h"

namespace procsentry {

class FdOutput;

// Consecutive events in one format: event i is bytes[ends[i-1], ends[i]). Immutable once
// handed to the writers, so several outputs of the same format share it.
struct FormattedBatch {
  std::string bytes;
  std::vector<std::size_t> ends;
  // Only when an output of this format asks for them (Writer::wants_keys): each event's
  // process_uid, which Kafka keys its messages by. Event i's is keys[key_ends[i-1], key_ends[i]).
  std::string keys;
  std::vector<std::size_t> key_ends;

  void add(Formatter& format, const Event& event, bool keyed = false) {
    format.append(bytes, event);
    ends.push_back(bytes.size());
    if (keyed) {
      keys += event.process_uid.view();
      key_ends.push_back(keys.size());
    }
  }
  std::size_t size() const { return ends.size(); }
  bool empty() const { return ends.empty(); }
  std::string_view operator[](std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
  // "" unless the batch is keyed.
  std::string_view key(std::size_t i) const {
    if (i >= key_ends.size()) return {};
    const std::size_t begin = i == 0 ? 0 : key_ends[i - 1];
    return std::string_view(keys).substr(begin, key_ends[i] - begin);
  }
  std::size_t approximate_bytes() const {
    return sizeof(*this) + bytes.size() + keys.size() + (ends.size() + key_ends.size()) * sizeof(std::size_t);
  }
  void clear() {
    bytes.clear();
    ends.clear();
    keys.clear();
    key_ends.clear();
  }
};

class Writer {
 public:
  virtual ~Writer() = default;
  // For messages and the summary: "the database /var/lib/...", "syslog tcp://host:514".
  virtual std::string name() const = 0;
  // Writes the events in order. May block (a slow server): only this output waits. Once
  // `stop` is requested it must give up waiting within about a second.
  virtual void write(const FormattedBatch& events, std::stop_token stop) = 0;
  // After each write() from its thread, and after each source batch on the event thread:
  // what the writer buffered goes out.
  virtual void flush() {}
  // Called about every 100 ms while idle, and once more before the thread ends (`stop`
  // requested): timed commits, retention, reconnects.
  virtual void tick(std::stop_token /*stop*/) {}
  // Events it received but could not write (full disk, server gone at stop), for the summary.
  virtual std::uint64_t not_written() const { return 0; }
  // True once it can never write again (the reader of our stdout went away).
  virtual bool dead() const { return false; }
  // False while the place it writes to is away (a syslog server it lost). Unlike the rest,
  // asked from any thread (the health check): an implementation reads an atomic.
  virtual bool reachable() const { return true; }
  // True when its only wait is its reader's pace (a terminal, a pipe): alone, it may write
  // on the event thread, where a slow reader slows the draining of the kernel's ring buffer
  // and its drops arrive as `lost` events. Any other writer runs on its own thread.
  virtual bool fits_event_thread() const { return false; }
  // True when it needs each event's key (FormattedBatch::key): Kafka's message key.
  virtual bool wants_keys() const { return false; }
  // What the end of a run says of it besides losses ("N events recorded to PATH"), or "".
  virtual std::string summary(std::uint64_t /*written*/) const { return {}; }
  // A writer on the event thread whose write() only appends to an FdOutput's buffer may
  // hand out that buffer: the formatter then appends there itself (one copy less per event),
  // and end_event() follows each event, as write() would have done.
  virtual FdOutput* direct_output() { return nullptr; }
};

// One output: a format and where its bytes go. Outputs of one format share the formatter
// (the same object), and so the formatting.
struct Output {
  std::shared_ptr<Formatter> format;
  std::unique_ptr<Writer> writer;
};

}  // namespace procsentry
