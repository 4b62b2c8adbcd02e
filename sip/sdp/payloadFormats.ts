/**
 * The payload formats of an RTP/AVP m-line (RFC 4566 §5.14, §6; RFC 3551 §6): the fmt
 * list gives the payload types in preference order; `a=rtpmap` names them (required for
 * dynamic types, optional for static ones); `a=fmtp` adds their parameters.
 *
 * Checked here because sdp-transform leaves them loose: every payload type is 0–127, an
 * `rtpmap`/`fmtp` line is readable (sdp-transform files unreadable ones under `invalid`),
 * has a clock rate, and maps a payload type only once. An `rtpmap` for a type not in the
 * fmt list is ignored (RFC 4566 §6 ties attributes to listed formats only).
 */
import type { MediaDescription } from 'sdp-transform';
import { sdpFailure, type SdpFailure } from './errors.js';
import { fmtList, intIn, text } from './fields.js';
import { staticPayload } from './staticPayloads.js';
import type { PayloadFormat } from './types.js';

const MAX_PT = 127;

interface RtpMap {
  name: string;
  clockRate: number;
  channels?: number;
}

export function readPayloadFormats(
  media: MediaDescription,
): { ok: true; formats: PayloadFormat[] } | SdpFailure {
  for (const bad of media.invalid ?? []) {
    const value = String(bad.value);
    if (value.startsWith('rtpmap:') || value.startsWith('fmtp:')) {
      return sdpFailure('SDP_MALFORMED', `unreadable a=${value.slice(0, 40)}`);
    }
  }
  const payloadTypes: number[] = [];
  for (const token of fmtList(media.payloads)) {
    const pt = intIn(token, 0, MAX_PT);
    if (pt === undefined) return sdpFailure('SDP_MALFORMED', `bad payload type "${token}"`);
    if (!payloadTypes.includes(pt)) payloadTypes.push(pt);
  }
  if (payloadTypes.length === 0) return sdpFailure('SDP_MALFORMED', 'm=audio without formats');

  const rtpmaps = new Map<number, RtpMap>();
  for (const entry of media.rtp ?? []) {
    const pt = intIn(entry.payload, 0, MAX_PT);
    const name = text(entry.codec);
    const clockRate = intIn(entry.rate, 1, 10_000_000);
    if (pt === undefined || name === undefined || clockRate === undefined) {
      return sdpFailure('SDP_MALFORMED', 'bad a=rtpmap');
    }
    const map: RtpMap = { name, clockRate };
    if (entry.encoding !== undefined) {
      const channels = intIn(entry.encoding, 1, 255);
      if (channels === undefined) return sdpFailure('SDP_MALFORMED', 'bad a=rtpmap channels');
      map.channels = channels;
    }
    const seen = rtpmaps.get(pt);
    if (seen !== undefined && !sameMap(seen, map)) {
      return sdpFailure('SDP_MALFORMED', `payload type ${pt} mapped twice`);
    }
    rtpmaps.set(pt, map);
  }

  const fmtps = new Map<number, string>();
  for (const entry of media.fmtp ?? []) {
    const pt = intIn(entry.payload, 0, MAX_PT);
    if (pt === undefined) return sdpFailure('SDP_MALFORMED', 'bad a=fmtp');
    if (!fmtps.has(pt)) fmtps.set(pt, String(entry.config ?? '').trim());
  }

  const formats = payloadTypes.map((payloadType) => {
    const format: PayloadFormat = { payloadType, name: '' };
    const known = rtpmaps.get(payloadType) ?? staticPayload(payloadType);
    if (known !== undefined) {
      format.name = known.name;
      format.clockRate = known.clockRate;
      if (known.channels !== undefined) format.channels = known.channels;
    }
    const fmtp = fmtps.get(payloadType);
    if (fmtp !== undefined) format.fmtp = fmtp;
    return format;
  });
  return { ok: true, formats };
}

function sameMap(a: RtpMap, b: RtpMap): boolean {
  return (
    a.name.toLowerCase() === b.name.toLowerCase() &&
    a.clockRate === b.clockRate &&
    (a.channels ?? 1) === (b.channels ?? 1)
  );
}
