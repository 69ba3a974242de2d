#include "core/event.h"

#include <array>
#include <memory>
#include <new>
#include <utility>

namespace procsentry {
namespace {
constexpr std::array<std::pair<EventKind, std::string_view>, kEventKindSlots - 1> kNames{{
    {EventKind::exec, "exec"},
    {EventKind::exec_failed, "exec_failed"},
    {EventKind::fork, "fork"},
    {EventKind::exit, "exit"},
    {EventKind::lost, "lost"},
    {EventKind::create, "create"},
    {EventKind::hash, "hash"},
    {EventKind::heartbeat, "heartbeat"},
}};
static_assert(kNames.back().first == kLastEventKind, "every event kind has a name");
}  // namespace

std::string_view to_string(EventKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<EventKind> event_kind_from_string(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

void Event::reset() {
  auto kept_argv = std::move(argv);
  auto kept_storage = std::move(storage);
  auto kept_ancestry = std::move(ancestry);
  auto kept_rules = std::move(rules);
  kept_ancestry.clear();
  kept_rules.clear();
  kept_argv.clear();
  kept_storage.clear();
  // Rebuilt in place: assigning a temporary Event{} also moved every member one by one.
  // Default-initialised (new without "()"): every member has its initializer, and
  // value-initialisation (construct_at) would first zero all ~800 bytes with rep stos.
  std::destroy_at(this);
  ::new (static_cast<void*>(this)) Event;
  argv = std::move(kept_argv);
  storage = std::move(kept_storage);
  ancestry = std::move(kept_ancestry);
  rules = std::move(kept_rules);
}

std::string_view image_of(const Event& event) {
  switch (event.kind) {
    case EventKind::exec:
    case EventKind::create:
    case EventKind::hash:
      return event.image.bytes;
    case EventKind::exec_failed:
      return event.filename.bytes;
    default:
      return event.known_image.bytes;
  }
}

}  // namespace procsentry
