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

class TapRecorder;

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

// Indexes of the counts array exchanged with JavaScript (Float64Array, COUNT_FIELDS):
// what the route relayed since JavaScript last took its counts (it adds them to both
// legs' and pairs' counters, media/worker/fastRelay.ts), and the source's reception
// statistics (RFC 3550 A.1 and A.8 as media/rtcp/receiverStats.ts keeps them), which
// the route continues for the packets it relays and JavaScript loads and takes back.
enum CountField {
  CT_PACKETS,
  CT_BYTES,
  CT_PAYLOAD_BYTES,
  CT_SEND_FAILED,
  CT_LAST_MS,  // CLOCK_MONOTONIC ms of the last one relayed, -1: none
  RS_MAX_SEQ,
  RS_CYCLES,
  RS_RECEIVED,
  RS_JITTER,
  RS_HAVE_TRANSIT,
  RS_LAST_ARRIVAL_MS,  // CLOCK_MONOTONIC ms
  RS_LAST_TIMESTAMP,
  RS_CLOCK_RATE,
  COUNT_FIELDS
};

// RFC 3550 A.1 MAX_DROPOUT as media/rtcp/receiverStats.ts uses it: a larger jump is not
// an in-order packet there, so not one the route may count either.
constexpr uint32_t RS_MAX_DROPOUT = 3000;

// A tapped route's relayed datagrams are also copied, as received, into the event
// thread's tap (EventThread::TakeTapped) for the source's recording or its room's mix
// (JavaScript takes it at each sweep, and before each frame for the mix): each entry is a
// TAP_HEADER_BYTES header (TapField, 32-bit words) and the datagram, padded to 8 bytes.
enum TapField { TAP_TOKEN, TAP_LENGTH, TAP_ARRIVAL_MS /* a double over words 2-3 */ };
constexpr uint32_t TAP_HEADER_BYTES = 16;
// What the tap holds between two takes (JavaScript takes it at least once per sweep);
// a tapped packet that would not fit is left to JavaScript, which handles it itself.
constexpr uint32_t TAP_CAPACITY = 4u << 20;
inline uint32_t TapEntryBytes(uint32_t length) {
  return TAP_HEADER_BYTES + ((length + 7u) & ~7u);
}

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
  // The route taps what it relays (TAP_*), under the source's token: for the source's
  // recording in JavaScript, or for the room's mix.
  bool tap = false;
  uint32_t srcToken = 0;
  // The source's recording is native (tap_recorder.h): the route places what it
  // relays into recorder `recorderId` (the event thread resolves `recorder` from it),
  // as source `recordSlot`, each payload type as `recordLaw` says (RecordLaw). A payload
  // type JavaScript must record (RECORD_JS) is left to JavaScript, like a full tap.
  uint32_t recorderId = 0;
  TapRecorder* recorder = nullptr;
  int recordSlot = -1;
  uint8_t recordLaw[128] = {};
  // The route left a datagram of its source to JavaScript: it relays nothing more until
  // JavaScript takes it back (ClearRoute), so the source's datagrams leave in the order
  // they came (JavaScript relays the one it was left before anything after it).
  bool yielded = false;
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

  // Counted since JavaScript last took them (see CountField).
  double packets = 0;
  double bytes = 0;
  double payloadBytes = 0;
  double sendFailed = 0;
  double lastMs = -1;
  // The source's reception statistics (see CountField).
  uint32_t rsMaxSeq = 0;
  double rsCycles = 0;
  double rsReceived = 0;
  double rsJitter = 0;
  bool rsHaveTransit = false;
  double rsLastArrivalMs = 0;
  uint32_t rsLastTimestamp = 0;
  double rsClockRate = 8000;

  void Load(const double* state);
  void Store(double* state) const;
  // The reception statistics from `counts` (its CT_ fields are not read).
  void LoadReception(const double* counts);
  // Writes the counts and the reception statistics into `counts`, and starts counting
  // again from zero.
  void TakeCounts(double* counts);
};

// One received datagram `data[0..length)` from srcAddr4:srcPort at monotonic `nowMs`:
// when the route relays it, counts it, writes the datagram to send (the rewritten header, then the
// payload as received) into `out[0..length)`, advances the route's state and returns
// true; `data` is left as received. The caller sends `out` from route.dstFd to the
// route's endpoint (the event thread batches a round's sends, event_thread.h).
// Where an RTP datagram's payload ends (after padding), as media/rtp/rtpHeader.ts's
// rtpPayloadEnd; -1 when malformed. `*payloadOffset` is where it starts.
int RtpPayloadEnd(const uint8_t* data, uint32_t length, uint32_t* payloadOffset);

bool PrepareRelay(Route& route, const uint8_t* data, uint32_t length, int32_t srcAddr4,
                  int srcPort, double nowMs, uint8_t* out);

}  // namespace callwatch
