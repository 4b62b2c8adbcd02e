/**
 * RTP fixed header, read and written in place (RFC 3550 §5.1). Zero-copy: every function
 * takes the datagram as it came off the socket (a Buffer is a Uint8Array) and reads or
 * writes bytes at fixed offsets. Hot path: no function here allocates or throws on
 * network input; malformed packets come back as RTP_INVALID (-1).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....  (CC × 32 bits)              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  defined by profile (X=1)     |           length              |  §5.3.1; 0xBEDE or
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  0x100x = RFC 8285
 * |                 header extension (length × 32 bits)           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 payload ...   | padding (P=1) | pad count     |  last octet counts the
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  padding, itself included
 *
 * The field readers assume the 12-byte fixed header is present: check it once with
 * rtpPayloadOffset / rtpPayloadEnd (which validate) before reading fields.
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_SIZE = 12;
/** Returned by the validating functions for a malformed packet. */
export const RTP_INVALID = -1;

export function rtpVersion(buf: Uint8Array): number {
  return buf[0]! >>> 6;
}

export function rtpHasPadding(buf: Uint8Array): boolean {
  return (buf[0]! & 0x20) !== 0;
}

export function rtpHasExtension(buf: Uint8Array): boolean {
  return (buf[0]! & 0x10) !== 0;
}

export function rtpCsrcCount(buf: Uint8Array): number {
  return buf[0]! & 0x0f;
}

export function rtpMarker(buf: Uint8Array): boolean {
  return (buf[1]! & 0x80) !== 0;
}

export function rtpPayloadType(buf: Uint8Array): number {
  return buf[1]! & 0x7f;
}

export function rtpSequence(buf: Uint8Array): number {
  return (buf[2]! << 8) | buf[3]!;
}

/** Unsigned 32-bit. */
export function rtpTimestamp(buf: Uint8Array): number {
  return ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
}

/** Unsigned 32-bit. */
export function rtpSsrc(buf: Uint8Array): number {
  return ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
}

/**
 * Offset of the payload: after the fixed header, the CSRC list and the header extension
 * (§5.3.1: a 16-bit profile word, then a 16-bit length in 32-bit words that excludes the
 * 4-byte extension header itself; RFC 8285 keeps that layout). RTP_INVALID when the
 * packet is shorter than 12 bytes, the version is not 2, or the CSRCs or the extension
 * run past `length`. `length` is the datagram size when `buf` is a larger receive buffer.
 */
export function rtpPayloadOffset(buf: Uint8Array, length: number = buf.length): number {
  if (length < RTP_HEADER_SIZE || length > buf.length) return RTP_INVALID;
  const b0 = buf[0]!;
  if (b0 >>> 6 !== RTP_VERSION) return RTP_INVALID;
  let offset = RTP_HEADER_SIZE + (b0 & 0x0f) * 4;
  if ((b0 & 0x10) !== 0) {
    if (offset + 4 > length) return RTP_INVALID;
    const words = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    offset += 4 + words * 4;
  }
  return offset > length ? RTP_INVALID : offset;
}

/**
 * End of the payload (exclusive): `length`, minus the padding when P is set (§5.1: the
 * last octet counts the padding octets, itself included, so a count of 0 is malformed).
 * RTP_INVALID when the header is malformed (see rtpPayloadOffset) or the padding runs
 * into the header. An empty payload (end === offset) is valid.
 */
export function rtpPayloadEnd(buf: Uint8Array, length: number = buf.length): number {
  const offset = rtpPayloadOffset(buf, length);
  if (offset === RTP_INVALID) return RTP_INVALID;
  if ((buf[0]! & 0x20) === 0) return length;
  const pad = buf[length - 1]!;
  if (pad === 0 || length - pad < offset) return RTP_INVALID;
  return length - pad;
}

export function writeRtpSequence(buf: Uint8Array, sequence: number): void {
  buf[2] = (sequence >>> 8) & 0xff;
  buf[3] = sequence & 0xff;
}

export function writeRtpTimestamp(buf: Uint8Array, timestamp: number): void {
  buf[4] = (timestamp >>> 24) & 0xff;
  buf[5] = (timestamp >>> 16) & 0xff;
  buf[6] = (timestamp >>> 8) & 0xff;
  buf[7] = timestamp & 0xff;
}

export function writeRtpSsrc(buf: Uint8Array, ssrc: number): void {
  buf[8] = (ssrc >>> 24) & 0xff;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

/** Keeps the marker bit. */
export function writeRtpPayloadType(buf: Uint8Array, payloadType: number): void {
  buf[1] = (buf[1]! & 0x80) | (payloadType & 0x7f);
}

/** Keeps the payload type. */
export function writeRtpMarker(buf: Uint8Array, marker: boolean): void {
  buf[1] = marker ? buf[1]! | 0x80 : buf[1]! & 0x7f;
}

/**
 * Writes a fresh 12-byte header (V=2, no padding, no extension, no CSRC) at `offset` of a
 * preallocated buffer; the payload goes at `offset + RTP_HEADER_SIZE`. Returns the
 * number of bytes written (12).
 */
export function writeRtpHeader(
  buf: Uint8Array,
  payloadType: number,
  marker: boolean,
  sequence: number,
  timestamp: number,
  ssrc: number,
  offset = 0,
): number {
  buf[offset] = RTP_VERSION << 6;
  buf[offset + 1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf[offset + 2] = (sequence >>> 8) & 0xff;
  buf[offset + 3] = sequence & 0xff;
  buf[offset + 4] = (timestamp >>> 24) & 0xff;
  buf[offset + 5] = (timestamp >>> 16) & 0xff;
  buf[offset + 6] = (timestamp >>> 8) & 0xff;
  buf[offset + 7] = timestamp & 0xff;
  buf[offset + 8] = (ssrc >>> 24) & 0xff;
  buf[offset + 9] = (ssrc >>> 16) & 0xff;
  buf[offset + 10] = (ssrc >>> 8) & 0xff;
  buf[offset + 11] = ssrc & 0xff;
  return RTP_HEADER_SIZE;
}

/**
 * RTP/RTCP demultiplexing on one port (rtcp-mux, RFC 5761 §4): RTCP packet types 192–223
 * (SR 200, RR 201, SDES 202, BYE 203, APP 204, feedback 205/206, XR 207) read as RTP
 * marker + payload type 64–95, which RTP must not use when multiplexed. Only the demux
 * decision: the RTCP or RTP parser still validates the packet.
 */
export function isRtcp(buf: Uint8Array, length: number = buf.length): boolean {
  if (length < 2) return false;
  const pt = buf[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
}
