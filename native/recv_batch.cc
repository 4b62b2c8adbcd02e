#include "recv_batch.h"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

#include "clock.h"

namespace callwatch {

namespace {

// Room for one SCM_TIMESTAMPNS control message.
constexpr size_t CONTROL_BYTES = CMSG_SPACE(sizeof(timespec));

void WriteSource(int32_t* meta, const sockaddr_storage& from) {
  meta[META_FLAGS] = 0;
  std::memset(&meta[META_ADDR], 0, 16);
  if (from.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(from);
    meta[META_FLAGS] = META_FLAG_V6;
    meta[META_PORT] = ntohs(v6.sin6_port);
    std::memcpy(&meta[META_ADDR], &v6.sin6_addr, 16);
  } else {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(from);
    meta[META_PORT] = ntohs(v4.sin_port);
    std::memcpy(&meta[META_ADDR], &v4.sin_addr, 4);
  }
}

// The kernel's receive time of `msg` on the monotonic clock (`realToMono` converts
// from CLOCK_REALTIME, where SO_TIMESTAMPNS stamps), or `readMs` when it has none or
// the conversion lands in the future (the clock was stepped).
double ArrivalMs(msghdr& msg, double realToMono, double readMs) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      double ms = static_cast<double>(ts.tv_sec) * 1e3 +
                  static_cast<double>(ts.tv_nsec) / 1e6 + realToMono;
      return ms <= readMs ? ms : readMs;
    }
  }
  return readMs;
}

}  // namespace

uint32_t ReadBatch(int fd, uint32_t token, const Arena& arena, uint32_t first, uint32_t max) {
  if (max > MAX_PER_READ) max = MAX_PER_READ;
  if (max == 0) return 0;
  mmsghdr msgs[MAX_PER_READ];
  iovec iovs[MAX_PER_READ];
  sockaddr_storage from[MAX_PER_READ];
  alignas(cmsghdr) uint8_t control[MAX_PER_READ][CONTROL_BYTES];
  for (uint32_t i = 0; i < max; i++) {
    iovs[i].iov_base = arena.data + static_cast<size_t>(first + i) * arena.slotBytes;
    iovs[i].iov_len = arena.slotBytes;
    msghdr& h = msgs[i].msg_hdr;
    h.msg_name = &from[i];
    h.msg_namelen = sizeof from[i];
    h.msg_iov = &iovs[i];
    h.msg_iovlen = 1;
    h.msg_control = control[i];
    h.msg_controllen = CONTROL_BYTES;
    h.msg_flags = 0;
    msgs[i].msg_len = 0;
  }
  int n;
  do {
    n = recvmmsg(fd, msgs, max, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    int32_t* meta = arena.meta + static_cast<size_t>(first) * META_INTS;
    std::memset(meta, 0, META_INTS * sizeof(int32_t));
    meta[META_TOKEN] = static_cast<int32_t>(token);
    meta[META_LENGTH] = errno;
    meta[META_FLAGS] = META_FLAG_ERROR;
    arena.arrival[first] = MonotonicMs();
    return 1;
  }
  double readMs = MonotonicMs();
  double realToMono = readMs - RealtimeMs();
  for (int i = 0; i < n; i++) {
    uint32_t slot = first + static_cast<uint32_t>(i);
    int32_t* meta = arena.meta + static_cast<size_t>(slot) * META_INTS;
    msghdr& h = msgs[i].msg_hdr;
    meta[META_TOKEN] = static_cast<int32_t>(token);
    WriteSource(meta, from[i]);
    meta[META_LENGTH] = static_cast<int32_t>(msgs[i].msg_len);
    if (h.msg_flags & MSG_TRUNC) meta[META_FLAGS] |= META_FLAG_TRUNCATED;
    arena.arrival[slot] = ArrivalMs(h, realToMono, readMs);
  }
  return static_cast<uint32_t>(n);
}

int RecvRing::Read(const Ready* ready, uint32_t n, const Arena& arena, uint32_t first) {
  uint32_t room = arena.slots - first < ENTRIES ? arena.slots - first : ENTRIES;
  if (n > room) n = room;
  if (n == 0) return 0;
  uint32_t per = room / n;  // entries per socket: socket s has entries s*per..s*per+per-1
  if (per > MAX_PER_SOCKET) per = MAX_PER_SOCKET;
  const uint32_t entries = n * per;
  auto prepare = [&](io_uring_sqe* sqe, unsigned i) {
    iovs_[i].iov_base = arena.data + static_cast<size_t>(first + i) * arena.slotBytes;
    iovs_[i].iov_len = arena.slotBytes;
    std::memset(&msgs_[i], 0, sizeof msgs_[i]);
    msgs_[i].msg_name = &from_[i];
    msgs_[i].msg_namelen = sizeof from_[i];
    msgs_[i].msg_iov = &iovs_[i];
    msgs_[i].msg_iovlen = 1;
    msgs_[i].msg_control = control_[i];
    msgs_[i].msg_controllen = CONTROL_BYTES;
    std::memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_RECVMSG;
    sqe->fd = ready[i / per].fd;
    sqe->addr = reinterpret_cast<uint64_t>(&msgs_[i]);
    sqe->len = 1;
    sqe->msg_flags = MSG_DONTWAIT;
  };
  auto complete = [&](unsigned i, int res) { result_[i] = res; };
  if (ring_.Run(entries, done_, prepare, complete) != 0) return -1;

  double readMs = MonotonicMs();
  double realToMono = readMs - RealtimeMs();
  uint32_t written = 0;  // slots first..first+written-1 hold datagrams, in order
  for (uint32_t i = 0; i < entries; i++) {
    int res = result_[i];
    const Ready& from = ready[i / per];
    if (res == -EAGAIN || res == -EWOULDBLOCK || res == -EINTR) continue;  // nothing there
    uint32_t slot = first + written;
    int32_t* meta = arena.meta + static_cast<size_t>(slot) * META_INTS;
    if (res < 0) {
      std::memset(meta, 0, META_INTS * sizeof(int32_t));
      meta[META_TOKEN] = static_cast<int32_t>(from.token);
      meta[META_LENGTH] = -res;
      meta[META_FLAGS] = META_FLAG_ERROR;
      arena.arrival[slot] = readMs;
      written++;
      continue;
    }
    if (slot != first + i) {
      // An earlier socket had nothing: move this datagram down to keep the slots dense.
      size_t bytes = static_cast<size_t>(res) < arena.slotBytes ? res : arena.slotBytes;
      std::memmove(arena.data + static_cast<size_t>(slot) * arena.slotBytes,
                   arena.data + static_cast<size_t>(first + i) * arena.slotBytes, bytes);
    }
    meta[META_TOKEN] = static_cast<int32_t>(from.token);
    WriteSource(meta, from_[i]);
    meta[META_LENGTH] = res;
    if (msgs_[i].msg_flags & MSG_TRUNC) meta[META_FLAGS] |= META_FLAG_TRUNCATED;
    arena.arrival[slot] = ArrivalMs(msgs_[i], realToMono, readMs);
    written++;
  }
  return static_cast<int>(written);
}

}  // namespace callwatch
