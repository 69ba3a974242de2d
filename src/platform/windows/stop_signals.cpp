#include "platform/stop_signals.h"

#include <windows.h>

#include <atomic>

namespace procsentry {
namespace {
std::atomic<bool> g_stop{false};
std::atomic<Source*> g_source{nullptr};

// Runs on a thread of its own: cancelling the source ends the read pended in the driver.
BOOL WINAPI on_console_control(DWORD) {
  g_stop = true;
  if (Source* source = g_source.load()) source->cancel();
  return TRUE;
}
}  // namespace

void install_stop_handlers() { SetConsoleCtrlHandler(on_console_control, TRUE); }

void stop_on_signals(Source* source) {
  g_source.store(source);
  if (source != nullptr && g_stop.load()) source->cancel();
}

}  // namespace procsentry
