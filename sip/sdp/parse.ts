/**
 * parseSdp(): an SDP body (RFC 4566) read with sdp-transform (a plain audio body with
 * readPlain.ts, which gives the same result faster), then checked where
 * sdp-transform is lenient (it drops lines it cannot match and keeps whatever its regular
 * expressions captured), and reduced to what anchoring audio needs (see types.ts).
 *
 * A malformed or unusable body is a typed failure, never an exception: the B2BUA answers
 * it with 488 (RFC 3261 §21.4.26).
 */
import { parse, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { readConnection } from './connection.js';
import { audioCodecOf, isTelephoneEvent } from './codecs.js';
import { sdpFailure, type SdpFailure } from './errors.js';
import { intIn, positiveNumber, text, fmtList } from './fields.js';
import { readPayloadFormats } from './payloadFormats.js';
import { readPlainSdp } from './readPlain.js';
import { SAVPF, readWebRtc } from './webrtc.js';
import type { AudioStream, Direction, MediaLine, SdpOrigin, SdpSession } from './types.js';

export type SdpParseResult = { ok: true; session: SdpSession } | SdpFailure;

/** Far above any audio SDP; bounds the work sdp-transform's expressions do on input. */
export const MAX_SDP_LENGTH = 32 * 1024;

/** Session-level attributes sdp-transform files on the session (its types omit them). */
interface SessionLevel {
  direction?: Direction;
  ptime?: unknown;
}

export function parseSdp(body: Buffer | string): SdpParseResult {
  const source = typeof body === 'string' ? body : body.toString('utf8');
  if (source.length > MAX_SDP_LENGTH) return sdpFailure('SDP_MALFORMED', 'SDP body too large');
  // RFC 4566 §5: "v=" comes first; sdp-transform would skip any junk before it.
  if (!source.startsWith('v=')) return sdpFailure('SDP_MALFORMED', 'SDP must start with v=');
  // The usual plain audio body read directly (readPlain.ts), anything else by sdp-transform.
  const raw: SessionDescription = readPlainSdp(source) ?? parse(source);
  if (intIn(raw.version, 0, 0) !== 0) return sdpFailure('SDP_MALFORMED', 'v= must be 0');
  const origin = readOrigin(raw);
  if (origin === undefined) return sdpFailure('SDP_MALFORMED', 'missing or bad o= line');

  const media: MediaLine[] = [];
  for (const [index, m] of raw.media.entries()) {
    const line = readMediaLine(m, index);
    if (line === undefined) return sdpFailure('SDP_MALFORMED', `bad m= line ${index + 1}`);
    media.push(line);
  }
  // Each m-line's formats read once: choosing the stream reads them, and so does readAudio.
  const formatsRead: Array<PayloadFormatsResult | undefined> = [];
  const formatsOf = (index: number): PayloadFormatsResult =>
    (formatsRead[index] ??= readPayloadFormats(raw.media[index] as MediaDescription));
  const chosen = chooseAudio(media, (index) => hasKnownCodec(formatsOf(index)));
  if (!chosen.ok) return chosen;
  const audio = readAudio(
    raw,
    raw.media[chosen.index] as MediaDescription,
    chosen.index,
    formatsOf(chosen.index),
  );
  if (!audio.ok) return audio;
  return { ok: true, session: { origin, media, audio: audio.stream } };
}

function readOrigin(raw: SessionDescription): SdpOrigin | undefined {
  const o = raw.origin as Partial<SessionDescription['origin']> | undefined;
  if (o === undefined) return undefined;
  const username = text(o.username);
  const sessionId = text(o.sessionId);
  const sessionVersion = text(o.sessionVersion);
  const address = text(o.address);
  if (!username || !sessionId || !sessionVersion || !address) return undefined;
  return { username, sessionId, sessionVersion, address };
}

/** `m=<media> <port> <proto> <fmt> ...` (RFC 4566 §5.14). */
function readMediaLine(m: MediaDescription, index: number): MediaLine | undefined {
  const type = text(m.type);
  const port = intIn(m.port, 0, 65535);
  const protocol = text(m.protocol);
  const formats = fmtList(m.payloads);
  if (type === undefined || port === undefined || protocol === undefined) return undefined;
  if (formats.length === 0) return undefined;
  return { index, type, port, protocol, formats };
}

type PayloadFormatsResult = ReturnType<typeof readPayloadFormats>;

/** Whether an m-line lists a codec we can anchor (and its formats are readable). */
function hasKnownCodec(formats: PayloadFormatsResult): boolean {
  return formats.ok && formats.formats.some((f) => audioCodecOf(f) !== undefined);
}

/**
 * The stream to anchor: the first RTP/AVP audio m-line with a port that lists a codec we
 * know, else the first with a port, else the first RTP/AVP audio m-line (declined;
 * negotiation reports it); WebRTC's UDP/TLS/RTP/SAVPF counts as RTP/AVP here. Audio
 * offered only over another profile (RTP/SAVP with SDES keys, RTP/AVPF) is unsupported.
 */
function chooseAudio(
  media: MediaLine[],
  known: (index: number) => boolean,
): { ok: true; index: number } | SdpFailure {
  const audio = media.filter((m) => m.type === 'audio');
  const avp = audio.filter((m) => {
    const protocol = m.protocol.toUpperCase();
    return protocol === 'RTP/AVP' || protocol === SAVPF;
  });
  const open = avp.filter((m) => m.port !== 0);
  const pick = open.find((m) => known(m.index)) ?? open[0] ?? avp[0];
  if (pick !== undefined) return { ok: true, index: pick.index };
  const first = audio[0];
  if (first === undefined) return sdpFailure('SDP_NO_AUDIO', 'no m=audio line');
  const secure = first.protocol.toUpperCase().includes('SAVP');
  return sdpFailure(
    'SDP_UNSUPPORTED',
    `${secure ? 'SRTP ' : 'transport '}(${first.protocol}) is not supported`,
  );
}

function readAudio(
  raw: SessionDescription,
  m: MediaDescription,
  index: number,
  formats: PayloadFormatsResult,
): { ok: true; stream: AudioStream } | SdpFailure {
  const connection = readConnection(m.connection ?? raw.connection);
  if (!connection.ok) return connection;
  const port = intIn(m.port, 0, 65535) ?? 0;
  if (!formats.ok) return formats;
  const session = raw as SessionDescription & SessionLevel;
  const secure = text(m.protocol)?.toUpperCase() === SAVPF;
  const webrtc = secure ? readWebRtc(raw, m) : undefined;
  if (webrtc !== undefined && !webrtc.ok) return webrtc;
  const stream: AudioStream = {
    index,
    address: connection.address,
    family: connection.family,
    port,
    protocol: secure ? SAVPF : 'RTP/AVP',
    // RFC 3264 §5.1: media-level overrides session-level; sendrecv by default.
    direction: m.direction ?? session.direction ?? 'sendrecv',
    // RFC 8839 §4.2.1: a WebRTC peer's c= is a placeholder (0.0.0.0), ICE finds the address.
    nullAddress: connection.nullAddress && !secure,
    formats: formats.formats,
    rtcpMux: m.rtcpMux === 'rtcp-mux',
  };
  if (webrtc !== undefined) {
    stream.webrtc = webrtc.webrtc;
    stream.rtcpMux = true; // RFC 8829 §5.1.1: rtcp-mux is required of a WebRTC peer
  }
  const telephoneEvent = stream.formats.find((f) => isTelephoneEvent(f, 8000));
  if (telephoneEvent !== undefined) stream.telephoneEvent = telephoneEvent;
  const ptime = positiveNumber(m.ptime ?? session.ptime);
  if (ptime !== undefined) stream.ptime = ptime;
  const rtcpPort = intIn(m.rtcp?.port, 1, 65535);
  if (rtcpPort !== undefined) {
    const address = text(m.rtcp?.address);
    stream.rtcp = address === undefined ? { port: rtcpPort } : { port: rtcpPort, address };
  }
  return { ok: true, stream };
}
