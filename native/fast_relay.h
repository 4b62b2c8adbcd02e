// The relay fast path: a plain relayed RTP leg rewritten and sent by the event thread,
// without JavaScript (media/worker/fastRelay.ts decides when, docs/architecture.md §3).
//
// A Route belongs to one source RTP socket. It mirrors one segment of the listener's
// OutboundStream (media/rtp/outboundStream.ts) and continues it exactly as `next` would
// for in-order packets of that segment; anything else (another source address, another
// SSRC, RTCP, a payload type not in the map, a reordered packet, a jump that starts a new
// segment) is left for JavaScript, which takes the state back first.
#pragma once

#include <cstdint>

namespace callwatch {

// Indexes of the state array exchanged with JavaScript (Float64Array, STATE_COUNT).
enum StateField {
  ST_SOURCE_SSRC,
  ST_SEQ_OFFSET,
  ST_TS_OFFSET,
  ST_IN_HIGH_SEQ,
  ST_IN_REF_TS,
  ST_IN_REF_MS,  // CLOCK_MONOTONIC ms
  ST_HIGH_SEQ,
  ST_OUT_REF_TS,
  ST_OUT_REF_MS,  // CLOCK_MONOTONIC ms
  ST_OUT_SEQUENCE,
  ST_OUT_TIMESTAMP,
  ST_OUT_MARKER,
  ST_SENT,
  ST_SSRC,
  ST_MAX_GAP,
  ST_MAX_SKEW_SAMPLES,
  ST_CLOCK_RATE,
  STATE_COUNT
};

struct Route {
  // Where it goes: the listener's RTP socket and its endpoint (IPv4 only).
  int dstFd = -1;
  uint32_t dstToken = 0;
  int32_t dstAddr4 = 0;
  int dstPort = 0;
  // The source's latched address: anything else goes to JavaScript.
  int32_t srcAddr4 = 0;
  int srcPort = 0;
  // Input payload type -> output payload type, -1: not relayed here.
  int16_t ptMap[128];
  // The segment (see StateField).
  uint32_t sourceSsrc = 0;
  uint32_t seqOffset = 0;
  uint32_t tsOffset = 0;
  uint32_t inHighSeq = 0;
  uint32_t inRefTs = 0;
  double inRefMs = 0;
  uint32_t highSeq = 0;
  uint32_t outRefTs = 0;
  double outRefMs = 0;
  uint32_t outSequence = 0;
  uint32_t outTimestamp = 0;
  bool outMarker = false;
  double sent = 0;
  uint32_t ssrc = 0;
  int maxGap = 100;
  double maxSkewSamples = 8000;
  double clockRate = 8000;

  void Load(const double* state);
  void Store(double* state) const;
};

// What TryRelay did with one datagram.
enum RelayResult { RELAY_NO = 0, RELAY_SENT = 1, RELAY_SEND_FAILED = 2 };

// One received datagram `data[0..length)` from srcAddr4:srcPort at monotonic `nowMs`:
// relayed (rewritten into a header copy and sent; `data` is left as received) or not.
RelayResult TryRelay(Route& route, const uint8_t* data, uint32_t length, int32_t srcAddr4,
                     int srcPort, double nowMs);

}  // namespace callwatch
