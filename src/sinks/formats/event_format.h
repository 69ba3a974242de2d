// --format: which schema the JSON outputs (--json, --output, --syslog) write. native is
// procsentry's own (docs/json-schema.md); ecs and ocsf map it onto the Elastic Common Schema
// and OCSF's Process Activity class, carrying what they have no field for under procsentry.*
// (ECS) or unmapped (OCSF), so nothing is lost (README, "Standard schemas").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sinks/formats/json_format.h"

namespace procsentry {

enum class EventFormat : std::uint8_t { native, ecs, ocsf };

std::optional<EventFormat> event_format_from_string(std::string_view name);

// The machine the events come from, which the schema formats name on every event.
struct EventSource {
  std::string host_name;  // empty: unknown
  bool windows = false;   // the Windows client
};

// Whether the event comes from Windows: the Windows client's, or a Windows record (a create, or
// a record without the Linux task fields) replayed elsewhere.
inline bool from_windows(const EventSource& source, const Event& e) {
  if (source.windows || e.kind == EventKind::create) return true;
  return !e.task.has_uid_and_comm && e.kind != EventKind::hash && e.kind != EventKind::lost &&
         e.kind != EventKind::heartbeat;
}

std::shared_ptr<JsonEventFormatter> make_json_formatter(EventFormat format, const EventSource& source);

}  // namespace procsentry
