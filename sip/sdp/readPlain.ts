/**
 * A fast reader for the SDP bodies most calls carry: a plain audio offer or answer
 * (RFC 4566 §5: `v=`, `o=`, `s=`, `c=`, `t=`, `m=` and the attributes `a=rtpmap`,
 * `a=fmtp`, `a=ptime`, `a=rtcp`, `a=rtcp-mux` and the direction). It returns exactly the
 * object sdp-transform's `parse` returns for the same text, or undefined for anything
 * else (another line, a line not in its canonical form, other line ends), which then
 * goes to sdp-transform. sdp-transform tries its grammar's regular expressions one after
 * another for every line (twenty-odd for `a=sendrecv`), which made it about a sixth of
 * the SIP and SDP work of a call set-up; here each line is matched by one expression,
 * chosen by its first characters. The unit tests compare both readers.
 */
import type { SessionDescription } from 'sdp-transform';

/** As sdp-transform: a number when the text is that number's own spelling. */
function toIntIfInt(v: string): string | number {
  const n = Number(v);
  return String(n) === v ? n : v;
}

const ORIGIN = /^(\S+) (\d+) (\d+) (\S+) IP(\d) (\S+)$/;
const CONNECTION = /^IN IP(\d) (\S+)$/;
const TIMING = /^(\d+) (\d+)$/;
const MEDIA = /^(\w+) (\d+) ([\w/]+) (\S.*)$/;
const RTPMAP = /^rtpmap:(\d+) ([\w\-.]+)\/(\d+)(?:\/(\S+))?$/;
const FMTP = /^fmtp:(\d+) ([\S| ]+)$/;
const PTIME = /^ptime:(\d+(?:\.\d+)?)$/;
const RTCP = /^rtcp:(\d+)(?: (\S+) IP(\d) (\S+))?$/;

type Location = Record<string, unknown>;

/** sdp-transform's `location[name] ??= {}` for fields with named parts. */
function blank(location: Location, name: string): Location {
  const existing = location[name];
  if (existing) return existing as Location;
  const made: Location = {};
  location[name] = made;
  return made;
}

/** Sets the parts a match captured, as sdp-transform's attachProperties. */
function attach(target: Location, match: RegExpExecArray, names: readonly string[]): void {
  for (let i = 0; i < names.length; i++) {
    const part = match[i + 1];
    if (part != null) target[names[i] as string] = toIntIfInt(part);
  }
}

const ORIGIN_NAMES = ['username', 'sessionId', 'sessionVersion', 'netType', 'ipVer', 'address'];
const CONNECTION_NAMES = ['version', 'ip'];
const TIMING_NAMES = ['start', 'stop'];
const MEDIA_NAMES = ['type', 'port', 'protocol', 'payloads'];
const RTPMAP_NAMES = ['payload', 'codec', 'rate', 'encoding'];
const FMTP_NAMES = ['payload', 'config'];
const RTCP_NAMES = ['port', 'netType', 'ipVer', 'address'];

export function readPlainSdp(source: string): SessionDescription | undefined {
  const session: Location = {};
  const media: Location[] = [];
  let location = session;
  let pos = 0;
  while (pos < source.length) {
    const end = source.indexOf('\r\n', pos);
    if (end < 0) return undefined; // the last line too ends in CRLF
    const type = source.charCodeAt(pos);
    if (source.charCodeAt(pos + 1) !== 0x3d /* = */) return undefined;
    const content = source.slice(pos + 2, end);
    pos = end + 2;
    for (let i = 0; i < content.length; i++) {
      const c = content.charCodeAt(i);
      // Line ends sdp-transform splits at, or its `.` does not match.
      if (c === 0x0d || c === 0x0a || c === 0x2028 || c === 0x2029) return undefined;
    }
    let match: RegExpExecArray | null;
    switch (type) {
      case 0x76: // v
        if (content !== '0') return undefined;
        location.version = 0;
        break;
      case 0x6f: // o
        if ((match = ORIGIN.exec(content)) === null) return undefined;
        attach(blank(location, 'origin'), match, ORIGIN_NAMES);
        break;
      case 0x73: // s
        location.name = toIntIfInt(content);
        break;
      case 0x63: // c
        if ((match = CONNECTION.exec(content)) === null) return undefined;
        attach(blank(location, 'connection'), match, CONNECTION_NAMES);
        break;
      case 0x74: // t
        if ((match = TIMING.exec(content)) === null) return undefined;
        attach(blank(location, 'timing'), match, TIMING_NAMES);
        break;
      case 0x6d: // m
        if ((match = MEDIA.exec(content)) === null) return undefined;
        location = { rtp: [], fmtp: [] };
        media.push(location);
        attach(location, match, MEDIA_NAMES);
        break;
      case 0x61: // a
        if (!readAttribute(location, content)) return undefined;
        break;
      default:
        return undefined;
    }
  }
  session.media = media;
  return session as unknown as SessionDescription;
}

function readAttribute(location: Location, content: string): boolean {
  let match: RegExpExecArray | null;
  switch (content) {
    case 'sendrecv':
    case 'sendonly':
    case 'recvonly':
    case 'inactive':
      location.direction = content;
      return true;
    case 'rtcp-mux':
      location.rtcpMux = content;
      return true;
  }
  if ((match = RTPMAP.exec(content)) !== null) {
    push(location, 'rtp', match, RTPMAP_NAMES);
  } else if ((match = FMTP.exec(content)) !== null) {
    push(location, 'fmtp', match, FMTP_NAMES);
  } else if ((match = PTIME.exec(content)) !== null) {
    location.ptime = toIntIfInt(match[1] as string);
  } else if ((match = RTCP.exec(content)) !== null) {
    attach(blank(location, 'rtcp'), match, RTCP_NAMES);
  } else {
    return false;
  }
  return true;
}

function push(location: Location, list: string, match: RegExpExecArray, names: readonly string[]) {
  const entry: Location = {};
  attach(entry, match, names);
  ((location[list] ??= []) as Location[]).push(entry);
}
