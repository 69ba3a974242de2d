// --metrics HOST:PORT: /metrics (Prometheus text) and /healthz, served by libevent's evhttp on
// a thread of its own. It reads only the MetricsBoard the event thread publishes to.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "metrics/metrics_snapshot.h"

namespace procsentry {

class MetricsServer {
 public:
  // Binds and listens now (port 0: any free one), so that a bad address or a taken port is
  // an error at start-up; serves nothing until start().
  static Result<std::unique_ptr<MetricsServer>> bind(std::string_view address, const MetricsBoard& board,
                                                     std::string version);
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Starts serving; returns once every thread it uses exists (so a seccomp filter installed
  // afterwards only has to allow their steady-state calls).
  void start();
  // Stops serving and joins its threads. Idempotent.
  void stop();
  // "http://127.0.0.1:9464" (the chosen port when 0 was asked for).
  const std::string& url() const { return url_; }

 private:
  MetricsServer(const MetricsBoard& board, std::string version);

  const MetricsBoard& board_;
  const std::string version_;
  std::string url_;
  struct Loop;  // libevent's base, the HTTP server on it, the stop event and the thread
  std::unique_ptr<Loop> loop_;
};

}  // namespace procsentry
