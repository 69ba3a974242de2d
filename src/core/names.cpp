#include "core/names.h"

#include <string.h>

#include "procsentry/wire/wire.h"

namespace procsentry {

#ifdef _WIN32
// Windows records carry neither errno values nor signals.
std::string_view errno_name(int) { return ""; }
std::string_view errno_text(int) { return "unknown error"; }
std::string signal_name(int signal) { return "SIG" + std::to_string(signal); }
#else
std::string_view errno_name(int error) {
  const char* name = strerrorname_np(error);
  return name != nullptr ? name : "";
}

std::string_view errno_text(int error) {
  const char* text = strerrordesc_np(error);
  return text != nullptr ? text : "unknown error";
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "SIG" + std::to_string(signal);
}
#endif

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
