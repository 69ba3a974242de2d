#include "store/store_row.h"

#include <array>
#include <cstring>

namespace procsentry {
namespace {

enum Present : std::uint8_t { kPid = 1, kPpid = 2, kUid = 4 };

// Fixed part of a packed row; the texts follow in this order, the JSON object last.
struct Packed {
  std::int64_t time_ns;
  std::uint32_t pid, ppid, uid;
  std::uint8_t kind, present;
  std::uint16_t padding;
  std::int32_t error;
  std::array<std::uint32_t, 7> lengths;  // user, process_uid, parent_uid, image, parent_image, hash, argv
};

void append_argv(std::string& out, const Event& e) {
  if (e.kind == EventKind::create) {
    out += e.command_line.bytes;
    return;
  }
  for (std::size_t i = 0; i < e.argv.size(); ++i) {
    if (i != 0) out += ' ';
    out += e.argv[i];
  }
}

}  // namespace

void StoreRowFormatter::append(std::string& out, const Event& e) {
  Packed p{};
  p.time_ns = e.time_ns;
  p.kind = static_cast<std::uint8_t>(e.kind);
  if (e.kind != EventKind::lost && e.kind != EventKind::heartbeat) {
    p.pid = e.task.pid;
    p.present |= kPid;
    if (e.task.has_uid_and_comm || e.task.ppid != 0) {
      p.ppid = e.task.ppid;
      p.present |= kPpid;
    }
    if (e.task.has_uid_and_comm) {
      p.uid = e.task.uid;
      p.present |= kUid;
    }
  }
  const std::size_t at = out.size();
  out.append(sizeof(p), '\0');
  if (e.kind == EventKind::exec_failed) p.error = e.error;
  const bool hashed = e.kind == EventKind::exec || e.kind == EventKind::create || e.kind == EventKind::hash;
  const std::string_view hash = hashed ? e.sha256 : std::string_view();
  const std::array<std::string_view, 6> texts = {e.user,      e.process_uid.view(), e.parent_uid.view(),
                                                 image_of(e), e.parent_image.bytes, hash};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    out += texts[i];
    p.lengths[i] = static_cast<std::uint32_t>(texts[i].size());
  }
  const std::size_t argv_at = out.size();
  append_argv(out, e);
  p.lengths[6] = static_cast<std::uint32_t>(out.size() - argv_at);
  json_.append_object(out, e);
  std::memcpy(out.data() + at, &p, sizeof(p));
}

std::optional<StoreRow> StoreRow::parse(std::string_view bytes) {
  Packed p{};
  if (bytes.size() < sizeof(p)) return std::nullopt;
  std::memcpy(&p, bytes.data(), sizeof(p));
  bytes.remove_prefix(sizeof(p));
  if (p.kind == 0 || p.kind > static_cast<std::uint8_t>(kLastEventKind)) return std::nullopt;
  StoreRow row;
  row.kind = static_cast<EventKind>(p.kind);
  row.time_ns = p.time_ns;
  if (p.present & kPid) row.pid = p.pid;
  if (p.present & kPpid) row.ppid = p.ppid;
  if (p.present & kUid) row.uid = p.uid;
  row.error = p.error;
  std::array<std::string_view*, 7> texts = {&row.user,         &row.process_uid, &row.parent_uid, &row.image,
                                            &row.parent_image, &row.hash,        &row.argv};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (p.lengths[i] > bytes.size()) return std::nullopt;
    *texts[i] = bytes.substr(0, p.lengths[i]);
    bytes.remove_prefix(p.lengths[i]);
  }
  row.json = bytes;
  return row;
}

}  // namespace procsentry
