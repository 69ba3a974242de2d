#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sinks/writers/net_socket.h"

namespace procsentry::net {

Socket connect_to(const std::string& host, const std::string& port, bool stream, std::chrono::milliseconds timeout,
                  std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    why = gai_strerror(rc);
    return kNoSocket;
  }
  int connected = -1;
  for (addrinfo* a = found; a != nullptr && connected < 0; a = a->ai_next) {
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
      if (poll(&p, 1, static_cast<int>(timeout.count())) == 1) getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      rc = error == 0 ? 0 : -1;
      errno = error;
    }
    if (rc == 0) {
      connected = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(found);
  return connected;
}

void close_socket(Socket s) { ::close(static_cast<int>(s)); }

long send_some(Socket s, const char* data, std::size_t size, SendError& error, std::string& why) {
  const ssize_t n = ::send(static_cast<int>(s), data, size, MSG_NOSIGNAL);
  if (n >= 0) return static_cast<long>(n);
  error = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SendError::would_block
          : errno == ECONNREFUSED                                   ? SendError::refused
                                                                    : SendError::closed;
  why = std::strerror(errno);
  return -1;
}

bool peer_closed(Socket s) {
  char byte = 0;
  ssize_t n = recv(static_cast<int>(s), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void wait_writable(Socket s, int timeout_ms) {
  pollfd p{static_cast<int>(s), POLLOUT, 0};
  (void)poll(&p, 1, timeout_ms);
}

}  // namespace procsentry::net
