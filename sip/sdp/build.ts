/**
 * buildSdp(): our session description (RFC 4566, RFC 3264) for one anchored audio
 * stream (CRLF line ends): plain RTP/AVP written directly (writeAudio.ts), a WebRTC
 * stream with sdp-transform. Rejected streams of an answer
 * are written at their offer positions with port 0 (RFC 3264 §6: same number and order
 * of m-lines as the offer); the audio m-line takes the first position left.
 */
import { write, type MediaAttributes, type MediaDescription } from 'sdp-transform';
import { TELEPHONE_EVENT, TELEPHONE_EVENT_CLOCK_RATE, TELEPHONE_EVENT_EVENTS } from './codecs.js';
import type { Direction, MediaLine } from './types.js';
import { writeAudioSdp } from './writeAudio.js';
import { SAVPF, webRtcMediaAttributes, webRtcSessionAttributes } from './webrtc.js';
import type { LocalWebRtc } from './webrtc.js';

/** A payload format we list (the first one is the codec we send with). */
export interface SdpCodec {
  /** Encoding name for `a=rtpmap` (`PCMU`). */
  name: string;
  payloadType: number;
  /** Default 8000. */
  clockRate?: number;
  /** Channels in `a=rtpmap` (Opus: 2, RFC 7587 §7); none written when absent. */
  channels?: number;
  /** `a=fmtp` parameters, if any. */
  fmtp?: string;
}

/** RFC 4733 telephone-event at one clock rate (that of the audio codec it goes with). */
export interface SdpTelephoneEvent {
  payloadType: number;
  /** Default `0-16`. */
  events?: string;
  /** Default 8000. */
  clockRate?: number;
}

/** An offered m-line we decline: same type, protocol and formats, port 0. */
export type RejectedStream = Pick<MediaLine, 'index' | 'type' | 'protocol' | 'formats'>;

/** Everything about our side of the session except the `o=` line. */
export interface SdpDescription {
  /** The server's advertised media address (`c=` and `o=`), IPv4 or IPv6. */
  address: string;
  port: number;
  codecs: readonly SdpCodec[];
  /** RFC 4733 events; `events` defaults to `0-16`. */
  telephoneEvent?: SdpTelephoneEvent;
  /**
   * telephone-event at further clock rates (RFC 4733 §2.1: an event's clock is its audio
   * codec's), e.g. /48000 beside Opus when `telephoneEvent` is the /8000 one.
   */
  moreTelephoneEvents?: readonly SdpTelephoneEvent[];
  direction: Direction;
  ptime?: number;
  /** Write `a=rtcp-mux` (RFC 5761): only when the media engine multiplexes RTCP. */
  rtcpMux?: boolean;
  rejectedStreams?: readonly RejectedStream[];
  /** A WebRTC stream (UDP/TLS/RTP/SAVPF, rtcp-mux): our ICE-lite, DTLS and BUNDLE side. */
  webrtc?: LocalWebRtc;
}

/**
 * Our `o=` fields (RFC 4566 §5.2). The session id stays for the whole session; the
 * version goes up by one whenever the description changes (RFC 3264 §8, see localSdp.ts).
 */
export interface SdpOriginFields {
  username: string;
  sessionId: string | number;
  sessionVersion: number;
}

export interface BuildSdpInput extends SdpDescription {
  origin: SdpOriginFields;
}

function ipVersion(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

export function buildSdp(input: BuildSdpInput): string {
  return buildSdpWith(input, input.origin);
}

/** buildSdp() for a description and `o=` fields given apart (no object to merge them). */
export function buildSdpWith(input: SdpDescription, origin: SdpOriginFields): string {
  const ipVer = ipVersion(input.address);
  const rejected = input.rejectedStreams ?? [];
  const total = rejected.length + 1;
  // Each m-line's place: a rejected stream, or undefined for the audio stream (the first
  // place left).
  const slots: Array<RejectedStream | undefined> = new Array<undefined>(total).fill(undefined);
  for (const stream of rejected) {
    if (!Number.isInteger(stream.index) || stream.index < 0 || stream.index >= total) {
      throw new RangeError(`rejected stream index ${stream.index} outside 0..${total - 1}`);
    }
    if (slots[stream.index] !== undefined) {
      throw new RangeError(`two rejected streams at index ${stream.index}`);
    }
    slots[stream.index] = stream;
  }
  // Plain RTP/AVP is written directly (writeAudio.ts): the same text, far less garbage.
  if (input.webrtc === undefined) return writeAudioSdp(input, origin, ipVer, slots);
  return writeSdpGeneric({ ...input, origin }, ipVer, slots);
}

/**
 * The description written with sdp-transform, m-lines in `slots` order (see buildSdp()).
 * Exported for the unit tests, which check writeAudioSdp() against it.
 */
export function writeSdpGeneric(
  input: BuildSdpInput,
  ipVer: 4 | 6,
  slots: ReadonlyArray<RejectedStream | undefined>,
): string {
  const media = slots.map((s) => (s === undefined ? audioMedia(input) : rejectedMedia(s)));
  return write({
    version: 0,
    origin: {
      username: input.origin.username,
      sessionId: input.origin.sessionId,
      sessionVersion: input.origin.sessionVersion,
      netType: 'IN',
      ipVer,
      address: input.address,
    },
    name: '-',
    connection: { version: ipVer, ip: input.address },
    timing: { start: 0, stop: 0 },
    ...(input.webrtc !== undefined ? webRtcSessionAttributes(input.webrtc) : {}),
    media,
  });
}

function audioMedia(input: SdpDescription): MediaDescription {
  const rtp: MediaAttributes['rtp'] = [];
  const fmtp: MediaAttributes['fmtp'] = [];
  for (const c of input.codecs) {
    const map: MediaAttributes['rtp'][number] = {
      payload: c.payloadType,
      codec: c.name,
      rate: c.clockRate ?? 8000,
    };
    if (c.channels !== undefined) map.encoding = c.channels;
    rtp.push(map);
    if (c.fmtp !== undefined) fmtp.push({ payload: c.payloadType, config: c.fmtp });
  }
  const payloads = input.codecs.map((c) => c.payloadType);
  const events = [
    ...(input.telephoneEvent === undefined ? [] : [input.telephoneEvent]),
    ...(input.moreTelephoneEvents ?? []),
  ];
  for (const te of events) {
    payloads.push(te.payloadType);
    rtp.push({
      payload: te.payloadType,
      codec: TELEPHONE_EVENT,
      rate: te.clockRate ?? TELEPHONE_EVENT_CLOCK_RATE,
    });
    fmtp.push({ payload: te.payloadType, config: te.events ?? TELEPHONE_EVENT_EVENTS });
  }
  const media: MediaDescription = {
    type: 'audio',
    port: input.port,
    protocol: input.webrtc !== undefined ? SAVPF : 'RTP/AVP',
    payloads: payloads.join(' '),
    rtp,
    fmtp,
    direction: input.direction,
  };
  if (input.ptime !== undefined) media.ptime = input.ptime;
  if (input.rtcpMux === true || input.webrtc !== undefined) media.rtcpMux = 'rtcp-mux';
  if (input.webrtc !== undefined) Object.assign(media, webRtcMediaAttributes(input.webrtc));
  return media;
}

function rejectedMedia(stream: RejectedStream): MediaDescription {
  return {
    type: stream.type,
    port: 0,
    protocol: stream.protocol,
    payloads: stream.formats.join(' '),
    rtp: [],
    fmtp: [],
  };
}
