#include "sinks/writers/syslog_writer.h"

#include <fmt/core.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace procsentry {
namespace {

constexpr std::chrono::milliseconds kConnectTimeout{1000};
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
// Once stop is requested, how long a dead or stalled server may still hold us.
constexpr std::chrono::milliseconds kGraceAtStop{1000};

// Sleeps up to `d`, waking early when stop is requested.
void nap(std::chrono::milliseconds d, const std::stop_token& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

SyslogWriter::SyslogWriter(SyslogTarget target, std::FILE* diagnostics)
    : target_(std::move(target)), diagnostics_(diagnostics) {}

SyslogWriter::~SyslogWriter() { disconnect(); }

void SyslogWriter::disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SyslogWriter::connect_once(std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = target_.transport == SyslogTransport::tcp ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(target_.host.c_str(), target_.port.c_str(), &hints, &found); rc != 0) {
    why = gai_strerror(rc);
    return false;
  }
  for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int error = ETIMEDOUT;
      socklen_t length = sizeof(error);
      if (poll(&p, 1, static_cast<int>(kConnectTimeout.count())) == 1)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      rc = error == 0 ? 0 : -1;
      errno = error;
    }
    if (rc == 0) {
      fd_ = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(found);
  return fd_ >= 0;
}

bool SyslogWriter::connect_with_retry(std::stop_token stop) {
  if (given_up_) return false;
  auto backoff = kFirstBackoff;
  std::optional<std::chrono::steady_clock::time_point> stop_seen;
  for (std::string why;;) {
    if (connect_once(why)) {
      if (unreachable_) fmt::print(diagnostics_, "procsentry: {}: connected again\n", name());
      unreachable_ = false;
      return true;
    }
    if (!unreachable_) {
      unreachable_ = true;
      fmt::print(diagnostics_,
                 "procsentry: {}: cannot connect: {} (retrying; its events wait in a bounded backlog, the other "
                 "outputs are not affected)\n",
                 name(), why);
    }
    if (stop.stop_requested()) {
      const auto now = std::chrono::steady_clock::now();
      if (!stop_seen) stop_seen = now;
      if (now - *stop_seen >= kGraceAtStop) {
        given_up_ = true;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    nap(backoff, stop);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

bool SyslogWriter::peer_closed() const {
  char byte = 0;
  ssize_t n = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void SyslogWriter::write(const FormattedBatch& messages, std::stop_token stop) {
  if (target_.transport == SyslogTransport::udp) {
    if (fd_ < 0 && !connect_with_retry(stop)) {
      not_written_ += messages.size();
      return;
    }
    send_datagrams(messages);
    return;
  }
  stream_.clear();
  frame_ends_.clear();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string_view message = messages[i];
    stream_ += std::to_string(message.size());
    stream_ += ' ';
    stream_ += message;
    frame_ends_.push_back(stream_.size());
  }
  send_stream(stop);
}

void SyslogWriter::send_datagrams(const FormattedBatch& messages) {
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string_view message = messages[i];
    if (message.size() > kMaxDatagram) {
      ++not_written_;
      if (!reported_oversize_) {
        reported_oversize_ = true;
        fmt::print(diagnostics_,
                   "procsentry: {}: an event of {} bytes does not fit in one UDP datagram and was not sent (use "
                   "tcp:// for long command lines)\n",
                   name(), message.size());
      }
      continue;
    }
    // A refused earlier datagram (ICMP) surfaces on the next send: send this one again.
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (::send(fd_, message.data(), message.size(), MSG_NOSIGNAL) >= 0) break;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd_, POLLOUT, 0};
        (void)poll(&p, 1, 100);
      } else if (errno != ECONNREFUSED) {
        ++not_written_;
        break;
      }
    }
  }
}

void SyslogWriter::send_stream(std::stop_token stop) {
  std::size_t sent = 0;  // bytes of stream_ the server has been handed
  std::optional<std::chrono::steady_clock::time_point> stalled_since;
  while (sent < stream_.size()) {
    if (fd_ >= 0 && sent == 0 && peer_closed()) {
      fmt::print(diagnostics_, "procsentry: {}: the server closed the connection (reconnecting)\n", name());
      unreachable_ = true;
      disconnect();
    }
    if (fd_ < 0) {
      if (!connect_with_retry(stop)) break;
      // A frame cut by the lost connection goes again whole on the new one.
      auto whole = std::upper_bound(frame_ends_.begin(), frame_ends_.end(), sent);
      sent = whole == frame_ends_.begin() ? 0 : *(whole - 1);
    }
    ssize_t n = ::send(fd_, stream_.data() + sent, stream_.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      stalled_since.reset();
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (stop.stop_requested()) {  // a server that stopped reading may not hold the stop forever
        const auto now = std::chrono::steady_clock::now();
        if (!stalled_since) stalled_since = now;
        if (now - *stalled_since >= kGraceAtStop) {
          given_up_ = true;
          break;
        }
      }
      pollfd p{fd_, POLLOUT, 0};
      (void)poll(&p, 1, 100);
    } else {
      fmt::print(diagnostics_, "procsentry: {}: connection lost: {} (reconnecting)\n", name(),
                 std::strerror(n < 0 ? errno : EPIPE));
      unreachable_ = true;
      disconnect();
    }
  }
  if (sent < stream_.size()) {  // given up at stop: count the frames not wholly sent
    const auto whole = std::upper_bound(frame_ends_.begin(), frame_ends_.end(), sent) - frame_ends_.begin();
    not_written_ += frame_ends_.size() - static_cast<std::size_t>(whole);
    disconnect();
  }
}

}  // namespace procsentry
