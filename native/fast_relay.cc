#include "fast_relay.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
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

// The payload end as rtp/rtpHeader.ts's rtpPayloadEnd computes it, or -1 when malformed.
int PayloadEnd(const uint8_t* b, uint32_t length) {
  if (length < 12 || (b[0] >> 6) != 2) return -1;
  uint32_t offset = 12 + (b[0] & 0x0f) * 4;
  if (b[0] & 0x10) {
    if (offset + 4 > length) return -1;
    offset += 4 + Read16(b + offset + 2) * 4;
  }
  if (offset > length) return -1;
  if ((b[0] & 0x20) == 0) return static_cast<int>(length);
  uint32_t pad = b[length - 1];
  if (pad == 0 || length - pad < offset) return -1;
  return static_cast<int>(length - pad);
}

}  // namespace

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

RelayResult TryRelay(Route& r, const uint8_t* b, uint32_t length, int32_t srcAddr4, int srcPort,
                     double nowMs) {
  if (srcAddr4 != r.srcAddr4 || srcPort != r.srcPort) return RELAY_NO;
  int end = PayloadEnd(b, length);
  if (end < 0) return RELAY_NO;
  uint32_t pt = b[1] & 0x7f;
  if (pt >= 64 && pt <= 95) return RELAY_NO;  // RTCP multiplexed (RFC 5761 §4)
  int outPt = r.ptMap[pt];
  if (outPt < 0) return RELAY_NO;
  uint32_t ssrc = Read32(b + 8);
  if (ssrc != r.sourceSsrc) return RELAY_NO;
  uint32_t seq = Read16(b + 2);
  uint32_t ts = Read32(b + 4);
  // OutboundStream.next, the in-order branch within a segment; all else is JavaScript's.
  int d = SeqDiff(seq, r.inHighSeq);
  if (d <= 0 || d > r.maxGap) return RELAY_NO;
  int32_t dts = TsDiff(ts, r.inRefTs);
  bool newRef = false;
  if (dts > 0) {
    double skew = dts - ((nowMs - r.inRefMs) * r.clockRate) / 1000;
    if (skew > r.maxSkewSamples || skew < -r.maxSkewSamples) return RELAY_NO;
    newRef = true;
  } else if (dts < -r.maxSkewSamples) {
    return RELAY_NO;
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

  uint8_t header[12];
  header[0] = b[0];
  header[1] = static_cast<uint8_t>((b[1] & 0x80) | outPt);
  Write16(header + 2, r.outSequence);
  Write32(header + 4, r.outTimestamp);
  Write32(header + 8, r.ssrc);
  iovec iov[2];
  iov[0].iov_base = header;
  iov[0].iov_len = sizeof header;
  iov[1].iov_base = const_cast<uint8_t*>(b + 12);
  iov[1].iov_len = length - 12;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(r.dstPort));
  std::memcpy(&to.sin_addr, &r.dstAddr4, 4);
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ssize_t n;
  do {
    n = sendmsg(r.dstFd, &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? RELAY_SEND_FAILED : RELAY_SENT;
}

}  // namespace callwatch
