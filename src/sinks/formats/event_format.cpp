#include "sinks/formats/event_format.h"

#include "sinks/formats/ecs_format.h"
#include "sinks/formats/ocsf_format.h"

namespace procsentry {

std::optional<EventFormat> event_format_from_string(std::string_view name) {
  if (name == "native") return EventFormat::native;
  if (name == "ecs") return EventFormat::ecs;
  if (name == "ocsf") return EventFormat::ocsf;
  return std::nullopt;
}

std::shared_ptr<JsonEventFormatter> make_json_formatter(EventFormat format, const EventSource& source) {
  switch (format) {
    case EventFormat::ecs:
      return std::make_shared<EcsFormatter>(source);
    case EventFormat::ocsf:
      return std::make_shared<OcsfFormatter>(source);
    case EventFormat::native:
      break;
  }
  return std::make_shared<JsonFormatter>();
}

}  // namespace procsentry
