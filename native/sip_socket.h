// Socket options the SIP UDP socket needs beyond what NativeIo's bind sets: buffer
// sizes (a burst of REGISTERs needs room) and the local port (SIP may bind port 0).
// Free functions on an fd that a NativeIo owns (sip/transport/nativeSipSocket.ts).
#pragma once

#include <cstdint>

namespace callwatch {

// SO_RCVBUF and SO_SNDBUF to `bytes` (the kernel caps them at net.core.[rw]mem_max,
// as node:dgram's setRecvBufferSize does). 0 or an errno.
int SetSocketBuffers(int fd, int bytes);

// The bound local port of `fd`, or -errno.
int LocalPort(int fd);

// Per queued datagram, four int32: offset into the staging data, length, port, and
// the IPv4 address's 4 bytes (network order) as one int32.
constexpr int BATCH_INTS = 4;

// Sends `count` queued IPv4 datagrams from `data` with sendmmsg(MSG_DONTWAIT), as many
// per call as the kernel takes; a datagram it refuses is skipped. Returns how many were
// refused.
uint32_t SendBatch4(int fd, const uint8_t* data, const int32_t* queue, uint32_t count);

}  // namespace callwatch
