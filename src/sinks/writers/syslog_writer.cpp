#include "sinks/writers/syslog_writer.h"

#include <fmt/core.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "sinks/writers/net_socket.h"

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
  if (socket_ != net::kNoSocket) net::close_socket(socket_);
  socket_ = net::kNoSocket;
}

bool SyslogWriter::connect_once(std::string& why) {
  socket_ =
      net::connect_to(target_.host, target_.port, target_.transport == SyslogTransport::tcp, kConnectTimeout, why);
  return socket_ != net::kNoSocket;
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

bool SyslogWriter::peer_closed() const { return net::peer_closed(socket_); }

void SyslogWriter::write(const FormattedBatch& messages, std::stop_token stop) {
  if (target_.transport == SyslogTransport::udp) {
    if (socket_ == net::kNoSocket && !connect_with_retry(stop)) {
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
      net::SendError error = net::SendError::none;
      std::string why;
      if (net::send_some(socket_, message.data(), message.size(), error, why) >= 0) break;
      if (error == net::SendError::would_block) {
        net::wait_writable(socket_, 100);
      } else if (error != net::SendError::refused) {
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
    if (socket_ != net::kNoSocket && sent == 0 && peer_closed()) {
      fmt::print(diagnostics_, "procsentry: {}: the server closed the connection (reconnecting)\n", name());
      unreachable_ = true;
      disconnect();
    }
    if (socket_ == net::kNoSocket) {
      if (!connect_with_retry(stop)) break;
      // A frame cut by the lost connection goes again whole on the new one.
      auto whole = std::upper_bound(frame_ends_.begin(), frame_ends_.end(), sent);
      sent = whole == frame_ends_.begin() ? 0 : *(whole - 1);
    }
    net::SendError error = net::SendError::none;
    std::string why;
    const long n = net::send_some(socket_, stream_.data() + sent, stream_.size() - sent, error, why);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      stalled_since.reset();
    } else if (n < 0 && error == net::SendError::would_block) {
      if (stop.stop_requested()) {  // a server that stopped reading may not hold the stop forever
        const auto now = std::chrono::steady_clock::now();
        if (!stalled_since) stalled_since = now;
        if (now - *stalled_since >= kGraceAtStop) {
          given_up_ = true;
          break;
        }
      }
      net::wait_writable(socket_, 100);
    } else {
      fmt::print(diagnostics_, "procsentry: {}: connection lost: {} (reconnecting)\n", name(),
                 n < 0 ? why : std::string("the connection was closed"));
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
