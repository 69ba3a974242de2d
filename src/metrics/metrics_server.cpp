#include "metrics/metrics_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fmt/core.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <thread>

#include "metrics/prometheus_text.h"

namespace procsentry {
namespace {

// A scraper that stalls is dropped after this long (reading its request or writing the reply).
constexpr int kTimeoutSeconds = 5;
// Scrapers send a short GET: a larger request is refused rather than buffered.
constexpr std::size_t kMaxHeadersBytes = 8192;
constexpr std::size_t kMaxBodyBytes = 1024;
constexpr int kListenBacklog = 16;

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

// A listening, non-blocking socket on the first of the host's addresses that binds, and its
// port; or why none did. Only SO_REUSEADDR, never SO_REUSEPORT: a port another process holds
// must be refused, not shared.
Result<std::pair<int, int>> listen_on(const Address& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Error{rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc)};
  }
  int error = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, kListenBacklog) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
      freeaddrinfo(found);
      const int chosen = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      return std::pair{fd, chosen};
    }
    error = errno;
    close(fd);
  }
  freeaddrinfo(found);
  return Error{std::strerror(error)};
}

void reply(evhttp_request* request, int status, const char* reason, const char* content_type, const std::string& body) {
  evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", content_type);
  evbuffer_add(evhttp_request_get_output_buffer(request), body.data(), body.size());
  evhttp_send_reply(request, status, reason, nullptr);
}

}  // namespace

// One event loop on one thread: scrapes are rare and small. libevent is used without its
// thread support (libevent_pthreads): only the loop's thread touches the base once it runs;
// stop() reaches it through an eventfd.
struct MetricsServer::Loop {
  event_base* base = nullptr;
  evhttp* http = nullptr;
  int stop_fd = -1;
  event* stop_event = nullptr;
  std::thread thread;

  ~Loop() {
    if (stop_event != nullptr) event_free(stop_event);
    if (http != nullptr) evhttp_free(http);  // closes the listening socket and any connection
    if (base != nullptr) event_base_free(base);
    if (stop_fd >= 0) close(stop_fd);
  }
};

MetricsServer::MetricsServer(const MetricsBoard& board, std::string version)
    : board_(board), version_(std::move(version)), loop_(std::make_unique<Loop>()) {}

MetricsServer::~MetricsServer() { stop(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::bind(std::string_view address, const MetricsBoard& board,
                                                           std::string version) {
  auto parsed = parse_address(address);
  if (!parsed) return Error{fmt::format("--metrics: {}: expected HOST:PORT, e.g. 127.0.0.1:9464", address)};
  auto listening = listen_on(*parsed);
  if (!listening) return Error{fmt::format("--metrics: cannot listen on {}: {}", address, listening.error().message)};
  const auto [fd, port] = *listening;

  std::unique_ptr<MetricsServer> m(new MetricsServer(board, std::move(version)));
  Loop& loop = *m->loop_;
  event_config* config = event_config_new();
  if (config != nullptr) {
    // One thread, and the environment (EVENT_NO*) does not choose the backend.
    event_config_set_flag(config, EVENT_BASE_FLAG_NOLOCK | EVENT_BASE_FLAG_IGNORE_ENV);
    // poll(), not epoll: for a scraper or two it costs nothing and needs no call beyond the
    // allow-list's; with epoll, ThreadSanitizer reported the loop's epoll_ctl on a descriptor
    // racing with the event thread's close of a descriptor of the same number.
    event_config_avoid_method(config, "epoll");
    event_config_avoid_method(config, "select");
  }
  loop.base = config != nullptr ? event_base_new_with_config(config) : nullptr;
  if (config != nullptr) event_config_free(config);
  loop.http = loop.base != nullptr ? evhttp_new(loop.base) : nullptr;
  loop.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (loop.http == nullptr || loop.stop_fd < 0 || evhttp_accept_socket(loop.http, fd) != 0) {
    close(fd);
    return Error{fmt::format("--metrics: cannot serve on {}: libevent failed to start", address)};
  }
  loop.stop_event = event_new(
      loop.base, loop.stop_fd, EV_READ,
      [](evutil_socket_t, short, void* base) { event_base_loopbreak(static_cast<event_base*>(base)); }, loop.base);
  if (loop.stop_event == nullptr || event_add(loop.stop_event, nullptr) != 0) {
    return Error{fmt::format("--metrics: cannot serve on {}: libevent failed to start", address)};
  }
  evhttp_set_timeout(loop.http, kTimeoutSeconds);
  evhttp_set_max_headers_size(loop.http, kMaxHeadersBytes);
  evhttp_set_max_body_size(loop.http, kMaxBodyBytes);
  evhttp_set_allowed_methods(loop.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
  evhttp_set_cb(
      loop.http, "/metrics",
      [](evhttp_request* request, void* server) {
        const auto& self = *static_cast<const MetricsServer*>(server);
        reply(request, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
              render_prometheus(self.board_.read(), self.version_));
      },
      m.get());
  evhttp_set_cb(
      loop.http, "/healthz",
      [](evhttp_request* request, void* server) {
        const HealthVerdict verdict = health_of(static_cast<const MetricsServer*>(server)->board_.read());
        reply(request, verdict.ok ? 200 : 503, verdict.ok ? "OK" : "Service Unavailable", "text/plain; charset=utf-8",
              verdict.reason + "\n");
      },
      m.get());
  const bool v6 = parsed->host.find(':') != std::string::npos;
  m->url_ = fmt::format("http://{}{}{}:{}", v6 ? "[" : "", parsed->host, v6 ? "]" : "", port);
  return m;
}

void MetricsServer::start() {
  if (!loop_ || loop_->thread.joinable()) return;
  loop_->thread = std::thread([base = loop_->base] { event_base_dispatch(base); });
}

void MetricsServer::stop() {
  if (!loop_) return;
  if (loop_->thread.joinable()) {
    const std::uint64_t one = 1;
    // Cannot fail short of a bad descriptor: the counter is far from its limit.
    (void)!write(loop_->stop_fd, &one, sizeof(one));
    loop_->thread.join();
  }
  loop_.reset();
}

}  // namespace procsentry
