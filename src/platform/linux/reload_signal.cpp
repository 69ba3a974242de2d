#include "platform/linux/reload_signal.h"

#include <atomic>
#include <csignal>

namespace procsentry {
namespace {
std::atomic<bool> g_reload{false};
static_assert(std::atomic<bool>::is_always_lock_free);  // set in a signal handler

void on_sighup(int) { g_reload.store(true); }
}  // namespace

void reload_on_sighup() {
  struct sigaction action = {};
  action.sa_handler = on_sighup;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // the run loop looks between polls (at most 50 ms later)
  sigaction(SIGHUP, &action, nullptr);
}

bool take_reload_request() { return g_reload.exchange(false); }

}  // namespace procsentry
