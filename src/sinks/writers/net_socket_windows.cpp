#include <winsock2.h>
// after winsock2.h
#include <ws2tcpip.h>

#include <mutex>

#include "sinks/writers/net_socket.h"

namespace procsentry::net {
namespace {

std::string error_text(int error) {
  char text[256] = {};
  FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, static_cast<DWORD>(error), 0,
                 text, sizeof(text), nullptr);
  std::string s(text);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '.')) s.pop_back();
  return s.empty() ? "Winsock error " + std::to_string(error) : s;
}

// Winsock needs WSAStartup before any call; once per process, never undone (the process ends).
bool winsock_ready(std::string& why) {
  static std::once_flag once;
  static int started = -1;
  std::call_once(once, [] {
    WSADATA data;
    started = WSAStartup(MAKEWORD(2, 2), &data);
  });
  if (started != 0) why = error_text(started);
  return started == 0;
}

}  // namespace

Socket connect_to(const std::string& host, const std::string& port, bool stream, std::chrono::milliseconds timeout,
                  std::string& why) {
  if (!winsock_ready(why)) return kNoSocket;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    why = error_text(rc);
    return kNoSocket;
  }
  Socket connected = kNoSocket;
  for (addrinfo* a = found; a != nullptr && connected == kNoSocket; a = a->ai_next) {
    // Not inherited by child processes (WSA_FLAG_NO_HANDLE_INHERIT), as SOCK_CLOEXEC.
    SOCKET s = WSASocketW(a->ai_family, a->ai_socktype, a->ai_protocol, nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
      why = error_text(WSAGetLastError());
      continue;
    }
    u_long nonblocking = 1;
    int rc = ioctlsocket(s, static_cast<long>(FIONBIO), &nonblocking);  // the macro is unsigned
    if (rc == 0) rc = ::connect(s, a->ai_addr, static_cast<int>(a->ai_addrlen));
    int error = rc == 0 ? 0 : WSAGetLastError();
    if (rc != 0 && error == WSAEWOULDBLOCK) {  // Winsock's EINPROGRESS
      WSAPOLLFD p{s, POLLWRNORM, 0};
      error = WSAETIMEDOUT;
      if (WSAPoll(&p, 1, static_cast<INT>(timeout.count())) == 1) {
        int length = sizeof(error);
        getsockopt(s, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&error), &length);
      }
    }
    if (error == 0) {
      connected = static_cast<Socket>(s);
    } else {
      why = error_text(error);
      closesocket(s);
    }
  }
  freeaddrinfo(found);
  return connected;
}

void close_socket(Socket s) { closesocket(static_cast<SOCKET>(s)); }

long send_some(Socket s, const char* data, std::size_t size, SendError& error, std::string& why) {
  const int chunk = static_cast<int>(size < 1u << 30 ? size : 1u << 30);
  const int n = ::send(static_cast<SOCKET>(s), data, chunk, 0);  // Windows raises no SIGPIPE
  if (n != SOCKET_ERROR) return n;
  const int code = WSAGetLastError();
  error = code == WSAEWOULDBLOCK || code == WSAEINTR         ? SendError::would_block
          : code == WSAECONNREFUSED || code == WSAECONNRESET ? SendError::refused  // UDP: an ICMP refusal
                                                             : SendError::closed;
  why = error_text(code);
  return -1;
}

bool peer_closed(Socket s) {
  char byte = 0;
  const int n = recv(static_cast<SOCKET>(s), &byte, 1, MSG_PEEK);  // non-blocking socket: never waits
  return n == 0 || (n == SOCKET_ERROR && WSAGetLastError() != WSAEWOULDBLOCK);
}

void wait_writable(Socket s, int timeout_ms) {
  WSAPOLLFD p{static_cast<SOCKET>(s), POLLWRNORM, 0};
  (void)WSAPoll(&p, 1, timeout_ms);
}

}  // namespace procsentry::net
