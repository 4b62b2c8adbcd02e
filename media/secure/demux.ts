/**
 * What arrives on a WebRTC leg's one port (ICE, DTLS and SRTP multiplexed, RFC 7983 §7
 * and RFC 5764 §5.1.2), told apart by the first byte, and RTP from RTCP by the second
 * (RFC 5761 §4: RTCP packet types 192–223 are never RTP payload types 64–95 with the
 * marker bit).
 */
export const KIND_STUN = 0;
export const KIND_DTLS = 1;
export const KIND_RTP = 2;
export const KIND_RTCP = 3;
export const KIND_OTHER = 4;
export type PacketKind = 0 | 1 | 2 | 3 | 4;

export function classify(buf: Uint8Array, length: number): PacketKind {
  if (length < 1) return KIND_OTHER;
  const b = buf[0]!;
  if (b <= 3) return length >= 20 ? KIND_STUN : KIND_OTHER;
  if (b >= 20 && b <= 63) return length >= 13 ? KIND_DTLS : KIND_OTHER;
  if (b >= 128 && b <= 191) {
    if (length < 12) return KIND_OTHER;
    const pt = buf[1]!;
    return pt >= 192 && pt <= 223 ? KIND_RTCP : KIND_RTP;
  }
  return KIND_OTHER;
}
