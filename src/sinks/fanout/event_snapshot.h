// An event as the sinks on their own threads receive it. An Event's views live only as long
// as its ring-buffer record, so the event thread takes an owned snapshot, formatted once
// (JSON, the store's columns, the live view's text) and immutable once shared.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "sinks/json_lines/json_lines_sink.h"
#include "sinks/sink.h"

namespace procsentry {

struct EventSnapshot {
  EventKind kind = EventKind::exec;
  std::int64_t time_ns = 0;
  std::optional<std::uint32_t> pid, ppid, uid;  // absent: the event has none (lost, Windows)
  std::string user, process_uid, parent_uid;
  std::string image;  // exec: the image; exec_failed: the filename tried; fork/exit: the known image
  std::string argv;   // the arguments joined by spaces (Windows: the command line), for queries
  std::string json;   // the JSON Lines object, without its newline
  std::string live;   // the live view's text, newline included (empty without a live view)

  std::size_t approximate_bytes() const;  // for backlog bounds
};

using SnapshotBatch = std::vector<EventSnapshot>;
std::size_t approximate_bytes(const SnapshotBatch& batch);

// Takes snapshots on the event thread. `live` (optional) renders the live view's text.
class Snapshotter {
 public:
  explicit Snapshotter(TextFormatter* live) : live_(live) {}
  void take(const Event& event, EventSnapshot& out);

 private:
  JsonLinesSink json_{-1};  // formats only
  TextFormatter* live_;
};

}  // namespace procsentry
