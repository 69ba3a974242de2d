#include "metrics/metrics_server.h"

#include <fmt/core.h>
#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <future>
#include <optional>
#include <thread>

#include "metrics/prometheus_text.h"

namespace procsentry {
namespace {

// Scrapes are rare and small: two threads answer them (one per concurrent scraper).
constexpr std::size_t kServingThreads = 2;

struct Address {
  std::string host;
  int port = -1;
};

// HOST:PORT or [IPv6]:PORT.
std::optional<Address> parse_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // a bare IPv6 address: which colon ends it?
  }
  Address a{std::string(host), -1};
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc{} || end != port.data() + port.size() || a.port < 0 || a.port > 65535) return std::nullopt;
  return a;
}

}  // namespace

struct MetricsServer::Thread {
  std::thread thread;
};

MetricsServer::MetricsServer(const MetricsBoard& board, std::string version)
    : board_(board), version_(std::move(version)), server_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() { stop(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::bind(std::string_view address, const MetricsBoard& board,
                                                           std::string version) {
  auto parsed = parse_address(address);
  if (!parsed) return Error{fmt::format("--metrics: {}: expected HOST:PORT, e.g. 127.0.0.1:9464", address)};
  std::unique_ptr<MetricsServer> m(new MetricsServer(board, std::move(version)));
  httplib::Server& server = *m->server_;
  // Only SO_REUSEADDR (httplib's default adds SO_REUSEPORT): a port another process holds
  // must be refused, not shared.
  server.set_socket_options([](socket_t fd) {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.Get("/metrics", [&m = *m](const httplib::Request&, httplib::Response& response) {
    response.set_content(render_prometheus(m.board_.read(), m.version_), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [&m = *m](const httplib::Request&, httplib::Response& response) {
    const HealthVerdict verdict = health_of(m.board_.read());
    response.status = verdict.ok ? 200 : 503;
    response.set_content(verdict.reason + "\n", "text/plain; charset=utf-8");
  });
  errno = 0;
  int port = parsed->port;
  if (port == 0) {
    port = server.bind_to_any_port(parsed->host);
  } else if (!server.bind_to_port(parsed->host, port)) {
    port = -1;
  }
  if (port < 0) {
    const int error = errno;
    return Error{fmt::format("--metrics: cannot listen on {}{}{}", address, error != 0 ? ": " : "",
                             error != 0 ? std::strerror(error) : "")};
  }
  const bool v6 = parsed->host.find(':') != std::string::npos;
  m->url_ = fmt::format("http://{}{}{}:{}", v6 ? "[" : "", parsed->host, v6 ? "]" : "", port);
  return m;
}

void MetricsServer::start() {
  if (thread_) return;
  std::promise<void> pool_ready;
  std::future<void> ready = pool_ready.get_future();
  server_->new_task_queue = [&pool_ready] {
    auto* pool = new httplib::ThreadPool(kServingThreads);  // its threads exist once it is made
    pool_ready.set_value();
    return pool;
  };
  thread_ = std::make_unique<Thread>();
  thread_->thread = std::thread([this] { server_->listen_after_bind(); });
  ready.wait();
}

void MetricsServer::stop() {
  if (!thread_) return;
  server_->stop();
  if (thread_->thread.joinable()) thread_->thread.join();
  thread_.reset();
}

}  // namespace procsentry
