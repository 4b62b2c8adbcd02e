/**
 * Our SDP text for a plain RTP/AVP audio stream (RFC 4566 §5), written directly: the
 * B2BUA writes two of these per call (the offer to the callee, the answer to the caller),
 * and sdp-transform's generic writer builds an object tree, walks its whole grammar for
 * every line and formats each through a regular expression — about 35 KB of garbage per
 * call. The output is the one sdp-transform writes for the same description, byte for
 * byte (the unit tests compare both): session lines in RFC 4566 order, then each m-line
 * with `a=rtpmap`, `a=fmtp`, `a=ptime`, the direction and `a=rtcp-mux`, CRLF line ends.
 * WebRTC streams keep the generic writer (build.ts).
 */
import { TELEPHONE_EVENT, TELEPHONE_EVENT_CLOCK_RATE, TELEPHONE_EVENT_EVENTS } from './codecs.js';
import type { SdpDescription, SdpOriginFields, RejectedStream } from './build.js';

/**
 * The SDP for `input` (no `webrtc`), with the m-lines in `slots` order: each slot a
 * rejected stream, or undefined for the audio stream.
 */
export function writeAudioSdp(
  input: SdpDescription,
  o: SdpOriginFields,
  ipVer: 4 | 6,
  slots: ReadonlyArray<RejectedStream | undefined>,
): string {
  let sdp =
    `v=0\r\no=${o.username} ${String(o.sessionId)} ${Number(o.sessionVersion)} IN IP${ipVer} ` +
    `${input.address}\r\ns=-\r\nc=IN IP${ipVer} ${input.address}\r\nt=0 0\r\n`;
  for (const slot of slots) {
    sdp +=
      slot === undefined
        ? audioLines(input)
        : `m=${slot.type} 0 ${slot.protocol} ${slot.formats.join(' ')}\r\n`;
  }
  return sdp;
}

function audioLines(input: SdpDescription): string {
  let payloads = '';
  let rtpmap = '';
  let fmtp = '';
  for (const c of input.codecs) {
    payloads += payloads === '' ? `${c.payloadType}` : ` ${c.payloadType}`;
    rtpmap += rtpmapLine(c.payloadType, c.name, c.clockRate ?? 8000, c.channels);
    if (c.fmtp !== undefined) fmtp += `a=fmtp:${c.payloadType} ${c.fmtp}\r\n`;
  }
  const te = input.telephoneEvent;
  if (te !== undefined) {
    payloads += payloads === '' ? `${te.payloadType}` : ` ${te.payloadType}`;
    rtpmap += rtpmapLine(
      te.payloadType,
      TELEPHONE_EVENT,
      te.clockRate ?? TELEPHONE_EVENT_CLOCK_RATE,
    );
    fmtp += `a=fmtp:${te.payloadType} ${te.events ?? TELEPHONE_EVENT_EVENTS}\r\n`;
  }
  for (const more of input.moreTelephoneEvents ?? []) {
    payloads += payloads === '' ? `${more.payloadType}` : ` ${more.payloadType}`;
    rtpmap += rtpmapLine(
      more.payloadType,
      TELEPHONE_EVENT,
      more.clockRate ?? TELEPHONE_EVENT_CLOCK_RATE,
    );
    fmtp += `a=fmtp:${more.payloadType} ${more.events ?? TELEPHONE_EVENT_EVENTS}\r\n`;
  }
  let lines = `m=audio ${Number(input.port)} RTP/AVP ${payloads}\r\n${rtpmap}${fmtp}`;
  if (input.ptime !== undefined) lines += `a=ptime:${Number(input.ptime)}\r\n`;
  lines += `a=${input.direction}\r\n`;
  if (input.rtcpMux === true) lines += 'a=rtcp-mux\r\n';
  return lines;
}

/** `a=rtpmap:<pt> <name>/<rate>[/<channels>]` (RFC 4566 §6). */
function rtpmapLine(payloadType: number, name: string, rate: number, channels?: number): string {
  // As sdp-transform: the channel count only when there is one (and not 0), the rate
  // likewise.
  if (channels) return `a=rtpmap:${payloadType} ${name}/${rate}/${channels}\r\n`;
  if (rate) return `a=rtpmap:${payloadType} ${name}/${rate}\r\n`;
  return `a=rtpmap:${payloadType} ${name}\r\n`;
}
