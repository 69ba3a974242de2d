// The few socket calls the syslog writer makes, per platform (net_socket_posix.cpp: BSD
// sockets; net_socket_windows.cpp: Winsock), so that it reads the same on both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace procsentry::net {

using Socket = std::intptr_t;  // a descriptor, or a Winsock SOCKET
inline constexpr Socket kNoSocket = -1;

// A non-blocking socket connected to host:port (stream: TCP, else UDP) within `timeout`, trying
// each address; kNoSocket with `why` otherwise.
Socket connect_to(const std::string& host, const std::string& port, bool stream, std::chrono::milliseconds timeout,
                  std::string& why);
void close_socket(Socket s);

enum class SendError { none, would_block, refused, closed };
// Bytes handed to the kernel (>= 0), or -1 with `error` (and `why`: its text) set.
long send_some(Socket s, const char* data, std::size_t size, SendError& error, std::string& why);
// The peer closed the connection (or it broke): a read would return end of file or an error.
bool peer_closed(Socket s);
// Waits until `s` may take more bytes, at most `timeout_ms`.
void wait_writable(Socket s, int timeout_ms);

}  // namespace procsentry::net
