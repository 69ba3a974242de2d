#include "sources/linux_bpf/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <deque>
#include <mutex>

namespace procsentry {
namespace {

// libbpf may log from any thread that calls it; the log is the one shared structure here,
// so it is guarded. It is only touched while loading, never per event.
struct LibbpfLog {
  std::mutex mutex;
  std::deque<std::string> lines;
  bool echo = false;
};

LibbpfLog& log_state() {
  static LibbpfLog state;
  return state;
}

int on_libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // A verifier log arrives as one message of up to megabytes: format it whole (with
  // --verbose all of it is echoed) and keep its last lines, where the verifier says why.
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, format, copy);  // NOLINT(clang-diagnostic-format-nonliteral)
  va_end(copy);
  if (n < 0) return 0;
  std::string text(static_cast<std::size_t>(n) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);  // NOLINT(clang-diagnostic-format-nonliteral)
  text.resize(static_cast<std::size_t>(n));
  LibbpfLog& state = log_state();
  std::lock_guard lock(state.mutex);
  if (state.echo) std::fputs(text.c_str(), stderr);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end + 1;
    state.lines.emplace_back(text, start, end - start);
    if (state.lines.size() > 200) state.lines.pop_front();
    start = end;
  }
  return 0;
}

}  // namespace

void capture_libbpf_log(bool echo_to_stderr) {
  LibbpfLog& state = log_state();
  {
    std::lock_guard lock(state.mutex);
    state.echo = echo_to_stderr;
  }
  libbpf_set_print(on_libbpf_print);
}

std::string libbpf_log_tail(std::size_t max_lines) {
  LibbpfLog& state = log_state();
  std::lock_guard lock(state.mutex);
  std::string out;
  std::size_t first = state.lines.size() > max_lines ? state.lines.size() - max_lines : 0;
  for (std::size_t i = first; i < state.lines.size(); ++i) out += state.lines[i];
  return out;
}

}  // namespace procsentry
