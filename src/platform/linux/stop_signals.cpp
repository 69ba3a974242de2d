#include "platform/stop_signals.h"

#include <atomic>
#include <csignal>

namespace procsentry {
namespace {
volatile std::sig_atomic_t g_stop = 0;
std::atomic<Source*> g_source{nullptr};
static_assert(std::atomic<Source*>::is_always_lock_free);  // read in a signal handler

void on_stop_signal(int) {
  g_stop = 1;
  if (Source* source = g_source.load()) source->cancel();
}
}  // namespace

void install_stop_handlers() {
  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the ring-buffer wait returns at once
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void stop_on_signals(Source* source) {
  g_source.store(source);
  // Set before the check: a signal in between finds the source itself.
  if (source != nullptr && g_stop != 0) source->cancel();
}

}  // namespace procsentry
