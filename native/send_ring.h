// Batched sends: the datagrams a media worker sends during one callback (a receive
// batch, a mixer tick), or the event thread relays in one round, go out from many sockets (each leg sends from
// its own port, RFC 4961), so sendmmsg(2), which takes one socket, batches nothing there.
// One io_uring_enter(2) submits a IORING_OP_SENDMSG per datagram, whatever its socket;
// on this machine a system call costs about 3 µs, the kernel's own work for a loopback
// datagram about 1 µs (bench notes in docs/architecture.md §3.2.1).
//
// Without io_uring (kernel without it, io_uring_disabled, a seccomp profile refusing it,
// or Disable(): CALLWATCH_SEND_RING=0 in nativePacketIo.ts) the same batch goes out with one sendto(2) per datagram.
// Every send is MSG_DONTWAIT, as the single sends are: a datagram the kernel refuses is
// reported, never queued.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "uring.h"

namespace callwatch {

// Per queued datagram, SEND_INTS int32: the socket fd, offset and length in the staging
// data, destination port, the IPv4 address's 4 bytes (network order) as one int32, and
// the result Send writes (0 or an errno).
constexpr int SEND_INTS = 6;
constexpr int SEND_FD = 0;
constexpr int SEND_OFFSET = 1;
constexpr int SEND_LENGTH = 2;
constexpr int SEND_PORT = 3;
constexpr int SEND_ADDR = 4;
constexpr int SEND_RESULT = 5;

class SendRing {
 public:
  // Sends `count` queued datagrams of `data` (the caller checked every offset and length),
  // writing each one's result. Returns how many failed. One thread per SendRing (the
  // ring has one submitting thread): the JavaScript thread's, the event thread's.
  uint32_t Send(const uint8_t* data, int32_t* queue, uint32_t count);
  // Closes the ring (later sends use sendto). Idempotent.
  void Close() {
    ring_.Close();
    tried_ = true;  // a closed ring is not opened again
  }
  // Sends with sendto from now on.
  void Disable() { Close(); }
  // Whether sends go through io_uring (false until the first Send, or without it).
  bool UsesRing() const { return ring_.IsOpen(); }

 private:
  static constexpr uint32_t ENTRIES = 128;  // datagrams per io_uring_enter

  uint32_t SendChunk(const uint8_t* data, int32_t* queue, uint32_t n);
  uint32_t SendEach(const uint8_t* data, int32_t* queue, uint32_t n);

  Uring ring_;
  bool tried_ = false;
  // What the entries point at: valid until their completions are reaped (Send waits
  // for all of them before it returns).
  msghdr msgs_[ENTRIES];
  iovec iovs_[ENTRIES];
  sockaddr_in to_[ENTRIES];
  bool done_[ENTRIES];
};

}  // namespace callwatch
