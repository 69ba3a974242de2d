#include "sinks/fanout/event_snapshot.h"

#include "core/filter.h"

namespace procsentry {
namespace {

void join_argv(const Event& e, std::string& out) {
  if (e.kind == EventKind::create) {
    out.assign(e.command_line.bytes);
    return;
  }
  for (std::size_t i = 0; i < e.argv.size(); ++i) {
    if (i != 0) out += ' ';
    out += e.argv[i];
  }
}

}  // namespace

std::size_t EventSnapshot::approximate_bytes() const {
  return sizeof(EventSnapshot) + user.size() + process_uid.size() + parent_uid.size() + image.size() + argv.size() +
         json.size() + live.size();
}

std::size_t approximate_bytes(const SnapshotBatch& batch) {
  std::size_t bytes = 0;
  for (const auto& e : batch) bytes += e.approximate_bytes();
  return bytes;
}

void Snapshotter::take(const Event& e, EventSnapshot& out) {
  out.kind = e.kind;
  out.time_ns = e.time_ns;
  if (e.kind != EventKind::lost) {
    out.pid = e.task.pid;
    if (e.task.posix || e.task.ppid != 0) out.ppid = e.task.ppid;
    if (e.task.posix) out.uid = e.task.uid;
  }
  out.user.assign(e.user);
  out.process_uid.assign(e.process_uid.view());
  out.parent_uid.assign(e.parent_uid.view());
  out.image.assign(image_of(e));
  join_argv(e, out.argv);
  json_.format(out.json, e);
  if (live_ != nullptr) live_->format_event(out.live, e);
}

}  // namespace procsentry
