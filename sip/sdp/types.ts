/**
 * What parseSdp() extracts from a session description (RFC 4566) for anchored audio:
 * the first usable audio stream in detail, every m-line in outline (so that the answer
 * can reject the others with port 0 and keep the m-line count, RFC 3264 §6).
 */

import type { RemoteWebRtc } from './webrtc.js';

/** RFC 3264 §5.1 / RFC 4566 §6: the direction attributes, seen from the SDP's author. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** `IN IP4` / `IN IP6` (RFC 4566 §5.7). */
export type AddressFamily = 'IP4' | 'IP6';

/** The `o=` line (RFC 4566 §5.2). Numbers are kept as text: they may exceed 2^53. */
export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  address: string;
}

/** One payload format of an RTP m-line, resolved from `rtpmap` or the static table. */
export interface PayloadFormat {
  payloadType: number;
  /** Encoding name as written (`PCMU`, `telephone-event`); empty when unknown. */
  name: string;
  clockRate?: number;
  channels?: number;
  /** The `a=fmtp` parameters, as written. */
  fmtp?: string;
}

/** The audio stream we anchor. */
export interface AudioStream {
  /** Position of its m-line in the description (0-based). */
  index: number;
  /** Where the peer wants to receive RTP: media-level `c=`, else session-level. */
  address: string;
  family: AddressFamily;
  /** 0 when the stream is declined (RFC 3264 §5.1). */
  port: number;
  protocol: 'RTP/AVP' | 'UDP/TLS/RTP/SAVPF';
  /** A WebRTC stream's ICE, DTLS and BUNDLE parameters (`protocol` SAVPF, webrtc.ts). */
  webrtc?: RemoteWebRtc;
  /** As signalled: media-level attribute, else session-level, else sendrecv. */
  direction: Direction;
  /** `c=IN IP4 0.0.0.0`: RFC 2543-style hold, the peer receives nothing (RFC 3264 §8.4). */
  nullAddress: boolean;
  /** Every payload format in the m-line's order (the offerer's preference). */
  formats: PayloadFormat[];
  /** The first `telephone-event/8000` format (RFC 4733), if offered (any rate: `formats`). */
  telephoneEvent?: PayloadFormat;
  /** `a=ptime` in ms (media-level, else session-level). */
  ptime?: number;
  /** `a=rtcp-mux` (RFC 5761). */
  rtcpMux: boolean;
  /** `a=rtcp` (RFC 3605): RTCP somewhere else than port + 1. */
  rtcp?: { port: number; address?: string };
}

/** Any m-line in outline: what an answer needs to reject it (RFC 3264 §6). */
export interface MediaLine {
  index: number;
  type: string;
  port: number;
  protocol: string;
  /** The fmt list as written (payload types for RTP, `t38`, `webrtc-datachannel`, …). */
  formats: string[];
}

export interface SdpSession {
  origin: SdpOrigin;
  media: MediaLine[];
  audio: AudioStream;
}
