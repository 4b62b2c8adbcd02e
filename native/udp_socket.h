// Plain UDP sockets for the io: bind one non-blocking socket with kernel receive
// timestamps, and send one datagram without blocking.
#pragma once

#include <cstddef>
#include <cstdint>

namespace callwatch {

// Binds a non-blocking UDP socket to `address`:`port` (an IPv4 or IPv6 literal).
// Returns the fd, or -errno (EINVAL for an address that is not a literal). Nothing
// stays open on failure.
int BindUdp(const char* address, int port, bool* isV6);

// sendto without blocking. `addr4` is an IPv4 address's 4 bytes as one int32 (in
// memory order). Returns 0 or the errno the kernel refused the datagram with.
int SendTo4(int fd, const uint8_t* data, size_t length, int port, int32_t addr4);

// The same for an IPv6 socket and a textual address (an IPv4 literal is sent
// v4-mapped). Returns 0 or an errno (EINVAL for an unparsable address).
int SendTo6(int fd, const uint8_t* data, size_t length, int port, const char* address);

}  // namespace callwatch
