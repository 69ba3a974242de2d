// --syslog: RFC 5424 messages (formats/rfc5424_format.h) to a syslog server, on the output's own
// thread. TCP frames each message with its length (RFC 6587 octet counting, which rsyslog,
// syslog-ng and Fluent Bit accept), notices a closed connection before writing, reconnects
// with backoff and resends every message not wholly written; while the server is away,
// events wait in the output's bounded backlog (WriterThread) and what does not fit is counted
// as dropped. UDP is fire-and-forget: one datagram per message, larger ones are not sent.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sinks/writers/net_socket.h"
#include "sinks/writers/syslog_target.h"
#include "sinks/writers/writer.h"

namespace procsentry {

class SyslogWriter final : public Writer {
 public:
  static constexpr std::size_t kMaxDatagram = 65'507;  // the largest UDP payload over IPv4

  SyslogWriter(SyslogTarget target, std::FILE* diagnostics);
  ~SyslogWriter() override;
  std::string name() const override { return "syslog " + target_.url(); }
  void write(const FormattedBatch& messages, std::stop_token stop) override;
  std::uint64_t not_written() const override { return not_written_; }
  bool reachable() const override { return !unreachable_.load(std::memory_order_relaxed); }

 private:
  bool connect_once(std::string& why);
  // Connects, retrying with backoff until it works or `stop` is requested (then one more
  // second). False: given up.
  bool connect_with_retry(std::stop_token stop);
  bool peer_closed() const;
  void disconnect();
  void send_datagrams(const FormattedBatch& messages);
  void send_stream(std::stop_token stop);

  const SyslogTarget target_;
  std::FILE* diagnostics_;
  net::Socket socket_ = net::kNoSocket;
  std::atomic<bool> unreachable_{false};  // reported, not yet reconnected (read by reachable())
  bool given_up_ = false;                 // at stop, the server could not be reached: no more waiting
  bool reported_oversize_ = false;
  std::string stream_;                   // TCP: framed messages of one delivery
  std::vector<std::size_t> frame_ends_;  // offsets in stream_ where each frame ends
  std::uint64_t not_written_ = 0;
};

}  // namespace procsentry
