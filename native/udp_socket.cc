#include "udp_socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace callwatch {

int BindUdp(const char* address, int port, bool* isV6) {
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  socklen_t len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
    *isV6 = false;
  } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
    *isV6 = true;
  } else {
    return -EINVAL;
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  // Kernel receive timestamps: each datagram carries its own arrival time.
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  if (*isV6) {
    // Like node:dgram's udp6: the socket takes IPv4-mapped traffic too.
    int off = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int error = errno;
    close(fd);
    return -error;
  }
  return fd;
}

static int Send(int fd, const uint8_t* data, size_t length, const sockaddr* to, socklen_t len) {
  for (;;) {
    ssize_t n = sendto(fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL, to, len);
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

int SendTo4(int fd, const uint8_t* data, size_t length, int port, int32_t addr4) {
  sockaddr_in to;
  std::memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  std::memcpy(&to.sin_addr, &addr4, 4);
  return Send(fd, data, length, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

int SendTo6(int fd, const uint8_t* data, size_t length, int port, const char* address) {
  sockaddr_in6 to;
  std::memset(&to, 0, sizeof to);
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET6, address, &to.sin6_addr) != 1) {
    in_addr v4;
    if (inet_pton(AF_INET, address, &v4) != 1) return EINVAL;
    // ::ffff:a.b.c.d
    to.sin6_addr.s6_addr[10] = 0xff;
    to.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&to.sin6_addr.s6_addr[12], &v4, 4);
  }
  return Send(fd, data, length, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

}  // namespace callwatch
