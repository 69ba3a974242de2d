// The store's row of an event: the columns the queries select on (pid, user, image, argv...)
// and the event's JSON Lines object, kept whole. StoreRowFormatter packs it into bytes on the
// event thread (a formatter like the others); StoreRow::parse reads them back on the
// store's thread. The packing never leaves the process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sinks/formats/json_format.h"

namespace procsentry {

struct StoreRow {
  EventKind kind = EventKind::exec;
  std::int64_t time_ns = 0;
  std::optional<std::uint32_t> pid, ppid, uid;  // absent: the event has none (lost, Windows)
  std::string_view user, process_uid, parent_uid;
  std::string_view image;         // exec: the image; exec_failed: the filename tried; fork/exit: the known image
  std::string_view argv;          // the arguments joined by spaces (Windows: the command line), for queries
  std::string_view parent_image;  // exec, create: what the parent runs
  std::string_view hash;          // exec and create with --hash, hash: the image's SHA-256 (hex); empty if none
  std::int32_t error = 0;         // exec_failed: the positive errno; 0 otherwise
  std::string_view json;          // the JSON Lines object, without its newline

  // The row packed in `bytes`, or nothing if they are not one.
  static std::optional<StoreRow> parse(std::string_view bytes);
};

class StoreRowFormatter final : public Formatter {
 public:
  void append(std::string& out, const Event& event) override;

 private:
  JsonFormatter json_;
};

}  // namespace procsentry
