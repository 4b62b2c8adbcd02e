// One recvmmsg(2) call on one socket, straight into the receive arena.
#pragma once

#include <cstdint>

#include "arena.h"

namespace callwatch {

// The most datagrams one call reads (and the most a socket gets per round, so a
// flood on one port cannot starve the others).
constexpr uint32_t MAX_PER_READ = 32;

// Reads up to `max` (<= MAX_PER_READ) datagrams from `fd` into slots first..,
// tagging them with `token`. Returns how many slots it wrote: datagrams, plus one
// entry per truncated datagram (META_FLAG_TRUNCATED) or receive error
// (META_FLAG_ERROR). 0 means nothing was pending (EAGAIN).
uint32_t ReadBatch(int fd, uint32_t token, const Arena& arena, uint32_t first, uint32_t max);

}  // namespace callwatch
