#include "sip_socket.h"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

namespace callwatch {

int SetSocketBuffers(int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0) return errno;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) return errno;
  return 0;
}

int LocalPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -errno;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6&>(ss).sin6_port);
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in&>(ss).sin_port);
  return -EAFNOSUPPORT;
}

uint32_t SendBatch4(int fd, const uint8_t* data, const int32_t* queue, uint32_t count) {
  constexpr uint32_t MAX = 64;
  mmsghdr msgs[MAX];
  iovec iovs[MAX];
  sockaddr_in to[MAX];
  uint32_t refused = 0;
  for (uint32_t base = 0; base < count; base += MAX) {
    uint32_t n = count - base < MAX ? count - base : MAX;
    for (uint32_t i = 0; i < n; i++) {
      const int32_t* q = queue + static_cast<size_t>(base + i) * BATCH_INTS;
      iovs[i].iov_base = const_cast<uint8_t*>(data) + q[0];
      iovs[i].iov_len = static_cast<size_t>(q[1]);
      std::memset(&to[i], 0, sizeof to[i]);
      to[i].sin_family = AF_INET;
      to[i].sin_port = htons(static_cast<uint16_t>(q[2]));
      std::memcpy(&to[i].sin_addr, &q[3], 4);
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &to[i];
      msgs[i].msg_hdr.msg_namelen = sizeof to[i];
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    uint32_t done = 0;
    while (done < n) {
      int sent = sendmmsg(fd, msgs + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        refused++;  // the first remaining datagram failed: skip it
        done++;
      } else {
        done += static_cast<uint32_t>(sent);
      }
    }
  }
  return refused;
}

}  // namespace callwatch
