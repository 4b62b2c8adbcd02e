// The receive arena's layout, shared by the event thread (which fills it) and
// media/io/nativePacketIo.ts (which reads it). JavaScript allocates the three
// ArrayBuffers and hands them to the NativeIo constructor; the addon keeps strong
// references so their memory stays put while the thread writes into it.
//
//   data:    slots x slotBytes bytes, one datagram per slot
//   meta:    slots x META_INTS int32, the fields below
//   arrival: slots x float64, arrival time in ms on CLOCK_MONOTONIC
//
// The arena is two halves that change hands under a mutex (event_thread.cc): the thread
// fills slots of one half, then JavaScript owns them until its drain returns, while the
// thread fills the other half.
#pragma once

#include <cstdint>

namespace callwatch {

constexpr int META_INTS = 8;
// Field indexes inside one slot's meta.
constexpr int META_TOKEN = 0;   // the receiving socket's token (never reused)
constexpr int META_LENGTH = 1;  // datagram length, or errno when META_FLAG_ERROR
constexpr int META_PORT = 2;    // source port
constexpr int META_FLAGS = 3;   // META_FLAG_*
constexpr int META_ADDR = 4;    // 4 int32: the source address bytes (IPv4: first int32)

constexpr int32_t META_FLAG_V6 = 1;        // the source is IPv6 (16 address bytes)
constexpr int32_t META_FLAG_TRUNCATED = 2; // larger than a slot: dropped, counted
constexpr int32_t META_FLAG_ERROR = 4;     // a receive error on the socket (errno in LENGTH)
// The event thread relayed it (fast_relay.h): the slot holds the datagram as received,
// META_RELAY_TOKEN the token of the socket it was sent from.
constexpr int32_t META_FLAG_RELAYED = 8;
constexpr int32_t META_FLAG_SEND_FAILED = 16;  // relayed, but the kernel refused the send
constexpr int META_RELAY_TOKEN = META_ADDR + 1;  // IPv4 sources only use META_ADDR

struct Arena {
  uint8_t* data = nullptr;
  int32_t* meta = nullptr;
  double* arrival = nullptr;
  uint32_t slots = 0;
  uint32_t slotBytes = 0;
};

}  // namespace callwatch
