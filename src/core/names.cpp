#include "core/names.h"

#include "core/event.h"
#include "procsentry/wire/wire.h"

namespace procsentry {

static_assert(PS_LOST_CAUSE_MAX + 1 == kLostCauseSlots, "HeartbeatCounts::kernel_lost has a slot per cause");

std::string_view lost_cause_name(std::uint32_t cause) {
  switch (cause) {
    case PS_LOST_RINGBUF_FULL:
      return "ringbuf_full";
    case PS_LOST_QUEUE_FULL:
      return "queue_full";
    case PS_LOST_ALLOC_FAILED:
      return "alloc_failed";
    default:
      return "unknown";
  }
}

}  // namespace procsentry
