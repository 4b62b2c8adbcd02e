// Reading into the receive arena: one recvmmsg(2) on one socket (ReadBatch), or one
// datagram from each of many ready sockets with one io_uring_enter(2) (RecvRing).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <ctime>

#include "arena.h"
#include "uring.h"

namespace callwatch {

// The most datagrams one call reads (and the most a socket gets per round, so a
// flood on one port cannot starve the others).
constexpr uint32_t MAX_PER_READ = 32;

// Reads up to `max` (<= MAX_PER_READ) datagrams from `fd` into slots first..,
// tagging them with `token`. Returns how many slots it wrote: datagrams, plus one
// entry per truncated datagram (META_FLAG_TRUNCATED) or receive error
// (META_FLAG_ERROR). 0 means nothing was pending (EAGAIN).
uint32_t ReadBatch(int fd, uint32_t token, const Arena& arena, uint32_t first, uint32_t max);

// Up to MAX_PER_SOCKET datagrams from each of many ready sockets, into consecutive
// slots, with one system call: a media worker's sockets each carry ~50 datagrams/s, so
// an epoll round finds many sockets with one or two datagrams each, and a recvmmsg per
// socket costs a system call per socket (~3 µs on this VM, docs/architecture.md
// §3.2.1). Each socket gets as many receive entries as the round has room for (at least
// one, at most MAX_PER_SOCKET): a socket that fell behind while JavaScript was busy
// catches up in one round, not one datagram per round; an entry that finds nothing
// costs no slot. What is left is reported again by the next (level-triggered) round.
// Event thread only; Open() there (the ring has one submitting thread).
class RecvRing {
 public:
  static constexpr uint32_t ENTRIES = 256;
  static constexpr uint32_t MAX_PER_SOCKET = 4;
  struct Ready {
    int fd;
    uint32_t token;
  };

  // False without io_uring (then the caller reads with ReadBatch).
  bool Open() { return ring_.Open(ENTRIES); }
  void Close() { ring_.Close(); }
  bool IsOpen() const { return ring_.IsOpen(); }

  // Reads datagrams from each of `ready[0..n)` (n <= ENTRIES and <= the free slots),
  // in order per socket, into slots first.., as ReadBatch writes them (truncated datagrams and
  // receive errors included; a socket with nothing pending takes no slot). Returns how
  // many slots it wrote, or -1 when io_uring_enter failed (never seen; the ring is
  // closed then and the caller reads with ReadBatch; datagrams the ring had read in
  // that call are lost, as a full socket buffer loses them).
  int Read(const Ready* ready, uint32_t n, const Arena& arena, uint32_t first);

 private:
  static constexpr size_t CONTROL_BYTES = CMSG_SPACE(sizeof(timespec));
  Uring ring_;
  msghdr msgs_[ENTRIES];
  iovec iovs_[ENTRIES];
  sockaddr_storage from_[ENTRIES];
  alignas(cmsghdr) uint8_t control_[ENTRIES][CONTROL_BYTES];
  int32_t result_[ENTRIES];
  bool done_[ENTRIES];
};

}  // namespace callwatch
