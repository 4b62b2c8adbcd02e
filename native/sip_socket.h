// Socket options the SIP UDP socket needs beyond what NativeIo's bind sets: buffer
// sizes (a burst of REGISTERs needs room) and the local port (SIP may bind port 0).
// Free functions on an fd that a NativeIo owns (sip/transport/nativeSipSocket.ts).
#pragma once

namespace callwatch {

// SO_RCVBUF and SO_SNDBUF to `bytes` (the kernel caps them at net.core.[rw]mem_max,
// as node:dgram's setRecvBufferSize does). 0 or an errno.
int SetSocketBuffers(int fd, int bytes);

// The bound local port of `fd`, or -errno.
int LocalPort(int fd);

}  // namespace callwatch
