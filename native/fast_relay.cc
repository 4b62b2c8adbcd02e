#include "fast_relay.h"

#include <cstring>

namespace callwatch {

namespace {

inline int SeqDiff(uint32_t a, uint32_t b) {
  return static_cast<int16_t>(static_cast<uint16_t>(a - b));
}
inline int32_t TsDiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
inline uint32_t Read16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
inline uint32_t Read32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
inline void Write16(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void Write32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

}  // namespace

int RtpPayloadEnd(const uint8_t* b, uint32_t length, uint32_t* payloadOffset) {
  if (length < 12 || (b[0] >> 6) != 2) return -1;
  uint32_t offset = 12 + (b[0] & 0x0f) * 4;
  if (b[0] & 0x10) {
    if (offset + 4 > length) return -1;
    offset += 4 + Read16(b + offset + 2) * 4;
  }
  if (offset > length) return -1;
  *payloadOffset = offset;
  if ((b[0] & 0x20) == 0) return static_cast<int>(length);
  uint32_t pad = b[length - 1];
  if (pad == 0 || length - pad < offset) return -1;
  return static_cast<int>(length - pad);
}


void Route::Load(const double* s) {
  sourceSsrc = static_cast<uint32_t>(s[ST_SOURCE_SSRC]);
  seqOffset = static_cast<uint32_t>(s[ST_SEQ_OFFSET]);
  tsOffset = static_cast<uint32_t>(s[ST_TS_OFFSET]);
  inHighSeq = static_cast<uint32_t>(s[ST_IN_HIGH_SEQ]);
  inRefTs = static_cast<uint32_t>(s[ST_IN_REF_TS]);
  inRefMs = s[ST_IN_REF_MS];
  highSeq = static_cast<uint32_t>(s[ST_HIGH_SEQ]);
  outRefTs = static_cast<uint32_t>(s[ST_OUT_REF_TS]);
  outRefMs = s[ST_OUT_REF_MS];
  outSequence = static_cast<uint32_t>(s[ST_OUT_SEQUENCE]);
  outTimestamp = static_cast<uint32_t>(s[ST_OUT_TIMESTAMP]);
  outMarker = s[ST_OUT_MARKER] != 0;
  sent = s[ST_SENT];
  ssrc = static_cast<uint32_t>(s[ST_SSRC]);
  maxGap = static_cast<int>(s[ST_MAX_GAP]);
  maxSkewSamples = s[ST_MAX_SKEW_SAMPLES];
  clockRate = s[ST_CLOCK_RATE];
}

void Route::LoadReception(const double* c) {
  rsMaxSeq = static_cast<uint32_t>(c[RS_MAX_SEQ]) & 0xffff;
  rsCycles = c[RS_CYCLES];
  rsReceived = c[RS_RECEIVED];
  rsJitter = c[RS_JITTER];
  rsHaveTransit = c[RS_HAVE_TRANSIT] != 0;
  rsLastArrivalMs = c[RS_LAST_ARRIVAL_MS];
  rsLastTimestamp = static_cast<uint32_t>(c[RS_LAST_TIMESTAMP]);
  rsClockRate = c[RS_CLOCK_RATE];
}

void Route::TakeCounts(double* c) {
  c[CT_PACKETS] = packets;
  c[CT_BYTES] = bytes;
  c[CT_PAYLOAD_BYTES] = payloadBytes;
  c[CT_SEND_FAILED] = sendFailed;
  c[CT_LAST_MS] = lastMs;
  c[RS_MAX_SEQ] = rsMaxSeq;
  c[RS_CYCLES] = rsCycles;
  c[RS_RECEIVED] = rsReceived;
  c[RS_JITTER] = rsJitter;
  c[RS_HAVE_TRANSIT] = rsHaveTransit ? 1 : 0;
  c[RS_LAST_ARRIVAL_MS] = rsLastArrivalMs;
  c[RS_LAST_TIMESTAMP] = rsLastTimestamp;
  c[RS_CLOCK_RATE] = rsClockRate;
  packets = bytes = payloadBytes = sendFailed = 0;
  lastMs = -1;
}

void Route::Store(double* s) const {
  s[ST_SOURCE_SSRC] = sourceSsrc;
  s[ST_SEQ_OFFSET] = seqOffset;
  s[ST_TS_OFFSET] = tsOffset;
  s[ST_IN_HIGH_SEQ] = inHighSeq;
  s[ST_IN_REF_TS] = inRefTs;
  s[ST_IN_REF_MS] = inRefMs;
  s[ST_HIGH_SEQ] = highSeq;
  s[ST_OUT_REF_TS] = outRefTs;
  s[ST_OUT_REF_MS] = outRefMs;
  s[ST_OUT_SEQUENCE] = outSequence;
  s[ST_OUT_TIMESTAMP] = outTimestamp;
  s[ST_OUT_MARKER] = outMarker ? 1 : 0;
  s[ST_SENT] = sent;
  s[ST_SSRC] = ssrc;
  s[ST_MAX_GAP] = maxGap;
  s[ST_MAX_SKEW_SAMPLES] = maxSkewSamples;
  s[ST_CLOCK_RATE] = clockRate;
}

bool PrepareRelay(Route& r, const uint8_t* b, uint32_t length, int32_t srcAddr4, int srcPort,
                  double nowMs, uint8_t* out) {
  if (srcAddr4 != r.srcAddr4 || srcPort != r.srcPort) return false;
  uint32_t payloadOffset = 0;
  int end = RtpPayloadEnd(b, length, &payloadOffset);
  if (end < 0) return false;
  uint32_t pt = b[1] & 0x7f;
  if (pt >= 64 && pt <= 95) return false;  // RTCP multiplexed (RFC 5761 §4)
  int outPt = r.ptMap[pt];
  if (outPt < 0) return false;
  uint32_t ssrc = Read32(b + 8);
  if (ssrc != r.sourceSsrc) return false;
  uint32_t seq = Read16(b + 2);
  uint32_t ts = Read32(b + 4);
  // OutboundStream.next, the in-order branch within a segment; all else is JavaScript's.
  int d = SeqDiff(seq, r.inHighSeq);
  if (d <= 0 || d > r.maxGap) return false;
  // ReceiverStats.update's in-order branch (RFC 3550 A.1 update_seq); else JavaScript's.
  uint32_t udelta = (seq - r.rsMaxSeq) & 0xffff;
  if (udelta == 0 || udelta >= RS_MAX_DROPOUT) return false;
  int32_t dts = TsDiff(ts, r.inRefTs);
  bool newRef = false;
  if (dts > 0) {
    double skew = dts - ((nowMs - r.inRefMs) * r.clockRate) / 1000;
    if (skew > r.maxSkewSamples || skew < -r.maxSkewSamples) return false;
    newRef = true;
  } else if (dts < -r.maxSkewSamples) {
    return false;
  }
  if (newRef) {
    r.inRefTs = ts;
    r.inRefMs = nowMs;
  }
  r.inHighSeq = seq;
  r.highSeq = (seq + r.seqOffset) & 0xffff;
  r.outSequence = r.highSeq;
  uint32_t outTs = ts + r.tsOffset;
  if (TsDiff(outTs, r.outRefTs) > 0) {
    r.outRefTs = outTs;
    r.outRefMs = nowMs;
  }
  r.outTimestamp = outTs;
  r.outMarker = (b[1] & 0x80) != 0;
  r.sent++;

  if (seq < r.rsMaxSeq) r.rsCycles += 65536;
  r.rsMaxSeq = seq;
  r.rsReceived++;
  // A.8 as ReceiverStats.updateJitter: only from a timestamp that moved.
  bool jitterUpdate = true;
  if (r.rsHaveTransit) {
    int32_t rdts = TsDiff(ts, r.rsLastTimestamp);
    if (rdts == 0) {
      jitterUpdate = false;
    } else {
      double dd = ((nowMs - r.rsLastArrivalMs) * r.rsClockRate) / 1000 - rdts;
      if (dd < 0) dd = -dd;
      r.rsJitter += (dd - r.rsJitter) / 16;
    }
  }
  if (jitterUpdate) {
    r.rsHaveTransit = true;
    r.rsLastArrivalMs = nowMs;
    r.rsLastTimestamp = ts;
  }
  r.packets++;
  r.bytes += length;
  r.payloadBytes += static_cast<uint32_t>(end) - payloadOffset;
  r.lastMs = nowMs;

  out[0] = b[0];
  out[1] = static_cast<uint8_t>((b[1] & 0x80) | outPt);
  Write16(out + 2, r.outSequence);
  Write32(out + 4, r.outTimestamp);
  Write32(out + 8, r.ssrc);
  std::memcpy(out + 12, b + 12, length - 12);
  return true;
}

}  // namespace callwatch
