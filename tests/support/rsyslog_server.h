// RsyslogServer: a real rsyslogd (Debian 12 package `rsyslog`, 8.2302) run as a child process on
// loopback, so integration tests can check that what a program forwards via syslog arrives intact.
//
// Each instance owns a private temp dir holding the config, the pid file, rsyslogd's stdout/stderr
// and the captured messages. The config loads only imudp and imtcp on 127.0.0.1 (rsyslog 8 loads
// no input that the config does not name, so there is no imuxsock and /dev/log is never opened;
// imjournal/imklog are not loaded either) and keeps internal messages inside this instance
// (processInternalMessages), so the system's syslog, /etc/rsyslog.d, /run and the journal are
// untouched. Verified with strace: the only paths opened are the temp dir and /etc/localtime.
//
// Every received message becomes one JSON object on one line of messages.jsonl (rsyslog's jsonf
// encoding escapes ", \ and all control characters, so a line never contains a raw newline):
//   {"pri":134, "version":"1", "timestamp":"...", "hostname":"...", "app_name":"...",
//    "procid":"...", "msgid":"...", "structured_data":"...", "msg":"...", "input":"imtcp",
//    "raw":"<134>1 ..."}
// "version" is "1" for RFC 5424 and "0" when rsyslog fell back to its legacy (RFC 3164) parser;
// "input" is "imudp" or "imtcp"; "raw" is the whole message as received (after the changes below).
//
// What arrives unchanged, as measured on 8.2302 with this config: MSG byte for byte, including
// leading/trailing spaces (the RFC 5424 parser drops only the one SP after STRUCTURED-DATA, and the
// template uses no sp-if-no-1st-sp), a UTF-8 BOM, tab, CR, LF (also a trailing one, since
// parser.dropTrailingLFOnReception is off), other C0 controls and DEL (escapeControlCharacters-
// OnReceive is off), and non-ASCII bytes (escape8BitCharactersOnReceive is off); TIMESTAMP as sent
// (fraction digits and offset or "Z" kept); STRUCTURED-DATA as sent; nil fields as "-".
// What rsyslog changes:
//   - a NUL byte anywhere makes rsyslog sanitize the message: each NUL becomes "#000" and the
//     other C0 control characters (except tab, LF, CR) in that message are dropped;
//   - a NUL as the very last byte is dropped;
//   - bytes that are not valid UTF-8 are written as they are, which makes that line invalid JSON:
//     messages() then throws nlohmann::json::parse_error; read raw_lines() for such tests;
//   - a message longer than maxMessageSize (256 KiB) is truncated; imtcp accepts octet-counted
//     frames (RFC 6587, on by default) up to maxFrameSize, set here to 300000.
// imudp sets SO_REUSEADDR, so a second instance can bind a UDP port that one still holds (the
// kernel then delivers to one of them): do not run two instances on one UDP port.
// Messages whose APP-NAME is "rsyslog-server-probe" are the readiness probes: they go to
// probe.log, never to messages.jsonl.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace procsentry::test {

namespace rsyslog_detail {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Learns a free UDP port by binding port 0. imudp cannot report the port it got, so there is a
// small window in which someone else may take it; the UDP readiness probe then fails and
// RsyslogServer::start() retries with another port.
inline std::uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// Sends `payload` to 127.0.0.1:port as one RFC 6587 octet-counted frame; false if the port does
// not accept a connection (yet).
inline bool send_tcp_frame(std::uint16_t port, std::string_view payload) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = loopback(port);
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  const std::string frame = std::to_string(payload.size()) + ' ' + std::string(payload);
  for (std::size_t off = 0; ok && off < frame.size();) {
    const ssize_t n = ::send(fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    ok = n > 0;
    if (ok) off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return ok;
}

inline void send_udp(std::uint16_t port, std::string_view payload) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const sockaddr_in addr = loopback(port);
  (void)::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::close(fd);
}

// The tail of a log file, on one line, for failure reasons.
inline std::string one_line_tail(const std::filesystem::path& path, std::size_t max = 1500) {
  std::string text = read_file(path);
  if (text.size() > max) text = "..." + text.substr(text.size() - max);
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? "(empty)" : text;
}

}  // namespace rsyslog_detail

class RsyslogServer {
 public:
  static constexpr const char* kBinary = "/usr/sbin/rsyslogd";
  static constexpr std::string_view kProbeAppName = "rsyslog-server-probe";

  static bool available() { return ::access(kBinary, X_OK) == 0; }

  // Starts on free ports: imtcp binds port 0 and reports the port through listenPortFileName,
  // the UDP port is picked beforehand (see free_udp_port), so a lost race is retried.
  static std::optional<RsyslogServer> start(std::string* why = nullptr) {
    std::string reason;
    for (int attempt = 0; attempt < 3; ++attempt) {
      const std::uint16_t udp = rsyslog_detail::free_udp_port();
      if (udp == 0) {
        reason = "cannot find a free UDP port";
        continue;
      }
      if (auto server = start_on(0, udp, &reason)) return server;
    }
    if (why != nullptr) *why = reason;
    return std::nullopt;
  }

  // Starts on the given ports (tcp_port 0: any free one), e.g. on the ports of a server that was
  // stopped, to test that a client reconnects. Returns nullopt with a one-line reason in *why if
  // rsyslogd exits or is not ready within `timeout`.
  static std::optional<RsyslogServer> start_on(std::uint16_t tcp_port, std::uint16_t udp_port,
                                               std::string* why = nullptr,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    RsyslogServer server;
    std::string reason = server.launch(tcp_port, udp_port, timeout);
    if (reason.empty()) return server;
    if (why != nullptr) *why = std::move(reason);
    return std::nullopt;  // ~RsyslogServer stops the child and removes the dir
  }

  RsyslogServer(const RsyslogServer&) = delete;
  RsyslogServer& operator=(const RsyslogServer&) = delete;
  RsyslogServer(RsyslogServer&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        dir_(std::exchange(other.dir_, {})),
        tcp_port_(other.tcp_port_),
        udp_port_(other.udp_port_) {}
  RsyslogServer& operator=(RsyslogServer&& other) noexcept {
    if (this != &other) {
      cleanup();
      pid_ = std::exchange(other.pid_, -1);
      dir_ = std::exchange(other.dir_, {});
      tcp_port_ = other.tcp_port_;
      udp_port_ = other.udp_port_;
    }
    return *this;
  }
  ~RsyslogServer() { cleanup(); }

  std::uint16_t tcp_port() const { return tcp_port_; }
  std::uint16_t udp_port() const { return udp_port_; }
  const std::filesystem::path& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }

  // Complete lines of messages.jsonl so far (a line still being written is left out).
  std::vector<std::string> raw_lines() const {
    const std::string text = rsyslog_detail::read_file(dir_ / "messages.jsonl");
    std::vector<std::string> lines;
    for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
      lines.emplace_back(text, start, end - start);
    return lines;
  }

  // Throws nlohmann::json::parse_error for a message that was not valid UTF-8 (see above).
  std::vector<nlohmann::json> messages() const {
    std::vector<nlohmann::json> out;
    for (const std::string& line : raw_lines()) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  // Polls until at least `count` messages have been written; false on timeout.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (raw_lines().size() >= count) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // SIGTERM (rsyslogd writes out what it has received, then exits) and waitpid; SIGKILL after
  // 5 s. The files stay readable until the object is destroyed, so messages() still works.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

 private:
  RsyslogServer() = default;

  void cleanup() {
    stop();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      dir_.clear();
    }
  }

  std::string config(std::uint16_t tcp_port) const {
    const std::string d = dir_.string();
    std::ostringstream c;
    // Parser settings are global and must precede the inputs; they keep MSG as sent.
    c << "global(workDirectory=\"" << d << "\" maxMessageSize=\"256k\"\n"
      << "       processInternalMessages=\"on\" abortOnUncleanConfig=\"on\"\n"
      << "       parser.escapeControlCharactersOnReceive=\"off\"\n"
      << "       parser.escapeControlCharacterTab=\"off\"\n"
      << "       parser.escape8BitCharactersOnReceive=\"off\"\n"
      << "       parser.dropTrailingLFOnReception=\"off\")\n"
      << "module(load=\"imudp\")\n"
      << "module(load=\"imtcp\" maxFrameSize=\"300000\")\n"
      << "template(name=\"capture_json\" type=\"list\" option.jsonf=\"on\") {\n"
      << "  property(outname=\"pri\" name=\"pri\" format=\"jsonf\" datatype=\"number\")\n"
      << "  property(outname=\"version\" name=\"protocol-version\" format=\"jsonf\")\n"
      << "  property(outname=\"timestamp\" name=\"timereported\" dateFormat=\"rfc3339\""
         " format=\"jsonf\")\n"
      << "  property(outname=\"hostname\" name=\"hostname\" format=\"jsonf\")\n"
      << "  property(outname=\"app_name\" name=\"app-name\" format=\"jsonf\")\n"
      << "  property(outname=\"procid\" name=\"procid\" format=\"jsonf\")\n"
      << "  property(outname=\"msgid\" name=\"msgid\" format=\"jsonf\")\n"
      << "  property(outname=\"structured_data\" name=\"structured-data\" format=\"jsonf\")\n"
      << "  property(outname=\"msg\" name=\"msg\" format=\"jsonf\")\n"
      << "  property(outname=\"input\" name=\"inputname\" format=\"jsonf\")\n"
      << "  property(outname=\"raw\" name=\"rawmsg\" format=\"jsonf\")\n"
      << "}\n"
      << "template(name=\"probe_line\" type=\"string\" string=\"%inputname%\\n\")\n"
      << "ruleset(name=\"capture\") {\n"
      << "  if $app-name == \"" << kProbeAppName << "\" then {\n"
      << "    action(type=\"omfile\" file=\"" << d << "/probe.log\" template=\"probe_line\")\n"
      << "    stop\n"
      << "  }\n"
      << "  action(type=\"omfile\" file=\"" << d << "/messages.jsonl\" template=\"capture_json\")\n"
      << "}\n"
      << "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" << udp_port_ << "\" ruleset=\"capture\")\n"
      << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << tcp_port << "\" ruleset=\"capture\"";
    // imtcp writes the port file only when it picked the port itself (port 0).
    if (tcp_port == 0) c << " listenPortFileName=\"" << d << "/tcp.port\"";
    c << ")\n"
      // rsyslogd's own start/stop/error messages go to the default ruleset.
      << "*.* action(type=\"omfile\" file=\"" << d << "/internal.log\")\n";
    return c.str();
  }

  // Returns "" when ready, else the reason.
  std::string launch(std::uint16_t tcp_port, std::uint16_t udp_port, std::chrono::milliseconds timeout) {
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / "procsentry-rsyslog-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return "mkdtemp failed: " + std::string(std::strerror(errno));
    dir_ = tmpl;
    udp_port_ = udp_port;
    tcp_port_ = tcp_port;
    const fs::path conf = dir_ / "rsyslog.conf";
    std::ofstream(conf) << config(tcp_port);

    // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
    std::vector<std::string> args = {kBinary, "-n", "-f", conf.string(), "-i", (dir_ / "rsyslogd.pid").string()};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Without these, rsyslogd would talk to a systemd that may have started the test runner.
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view var(*e);
      if (!var.starts_with("NOTIFY_SOCKET=") && !var.starts_with("LISTEN_")) envp.push_back(*e);
    }
    envp.push_back(nullptr);
    const int out = ::open((dir_ / "rsyslogd.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || null_in < 0) {
      if (out >= 0) ::close(out);
      if (null_in >= 0) ::close(null_in);
      return "cannot open rsyslogd.out or /dev/null in " + dir_.string();
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Dies with the test process (a crashed or killed test leaves no rsyslogd behind). Linux
      // ties this to the forking thread: start the server from a thread that outlives it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(null_in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::close_range(3, ~0U, 0);  // no inherited test sockets kept alive by rsyslogd
      ::execve(kBinary, argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out);
    ::close(null_in);
    if (pid < 0) return "fork failed: " + std::string(std::strerror(errno));
    pid_ = pid;
    return wait_ready(timeout);
  }

  // Ready when a probe message sent over TCP and one sent over UDP have both gone all the way
  // through rsyslogd into probe.log: proves our rsyslogd (not some other listener) owns both ports.
  std::string wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string probe = "<15>1 - - " + std::string(kProbeAppName) + " - - - ready?";
    bool tcp_sent = false;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "rsyslogd exited (" +
               (WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                                  : "signal " + std::to_string(WTERMSIG(status))) +
               "): " + diagnostics();
      }
      if (tcp_port_ == 0) {
        const std::string text = rsyslog_detail::read_file(dir_ / "tcp.port");
        const long port = std::strtol(text.c_str(), nullptr, 10);
        if (port > 0 && port <= 65535) tcp_port_ = static_cast<std::uint16_t>(port);
      }
      if (tcp_port_ != 0 && !tcp_sent) tcp_sent = rsyslog_detail::send_tcp_frame(tcp_port_, probe);
      const std::string arrived = rsyslog_detail::read_file(dir_ / "probe.log");
      const bool udp_arrived = arrived.find("imudp\n") != std::string::npos;
      if (arrived.find("imtcp\n") != std::string::npos && udp_arrived) return "";
      // UDP gives no error when nobody listens yet, so resend until one arrives.
      if (!udp_arrived) rsyslog_detail::send_udp(udp_port_, probe);
      if (std::chrono::steady_clock::now() >= deadline)
        return "rsyslogd not ready after " + std::to_string(timeout.count()) + " ms (tcp " +
               (tcp_sent ? "probe sent, not received" : "not accepting") + ", udp port " + std::to_string(udp_port_) +
               (udp_arrived ? " ok" : " probe not received") + "): " + diagnostics();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::string diagnostics() const {
    return "stderr: " + rsyslog_detail::one_line_tail(dir_ / "rsyslogd.out") +
           "; internal log: " + rsyslog_detail::one_line_tail(dir_ / "internal.log");
  }

  pid_t pid_ = -1;
  std::filesystem::path dir_;
  std::uint16_t tcp_port_ = 0;
  std::uint16_t udp_port_ = 0;
};

}  // namespace procsentry::test
