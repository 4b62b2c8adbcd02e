/**
 * The checks a UAS core makes on a parsed request before any application logic runs
 * (RFC 3261 §8.2.1 method inspection, §8.2.2 header inspection, §8.2.3 content
 * processing, §16.3 step 3 for Max-Forwards), in that order:
 *
 *   1. method not allowed                        405 (known method) / 501 (unknown), Allow
 *   2. Request-URI scheme not supported          416
 *   3. SIP Request-URI carrying headers          400 (RFC 3261 §19.1.1 table 1)
 *   4. CSeq unreadable or its method ≠ method    400 (RFC 3261 §8.1.1.5, RFC 4475 §3.1.2.17)
 *   5. REGISTER whose To is not a SIP/SIPS URI   400 (RFC 3261 §10.3, RFC 4475 §3.3.4)
 *   6. Max-Forwards 0 on a relayed method        483
 *   7. Require with an unknown option-tag        420, Unsupported (never for CANCEL)
 *   8. INVITE/UPDATE/PRACK body not understood   415, Accept / Accept-Encoding
 *   9. INVITE whose Accept excludes SDP          406 (RFC 4475 §3.3.15)
 *
 * The method check comes first, so an unknown method with a mismatched CSeq gets 501
 * (RFC 4475 §3.1.2.18 prefers it to 400).
 *
 * An ACK is never answered (RFC 3261 §17), so an ACK always passes: a malformed ACK just
 * matches nothing, and an unusable body in an ACK is the dialog's to deal with (BYE).
 *
 * Max-Forwards: a UAS answers requests itself, and RFC 4475 §3.3.11 says an endpoint
 * processes a Max-Forwards of 0 as if it were positive (OPTIONS gets its 200). Only the
 * methods the caller relays onward (`forwardedMethods`, e.g. INVITE for a B2BUA that
 * places a new call leg) are refused with 483.
 *
 * Pure: reads the request, never throws, returns the rejection or undefined.
 */
import {
  attempt,
  cseqOf,
  isSipUri,
  isToken,
  maxForwardsOf,
  parseMediaRange,
  parseMediaType,
  requestUriOf,
  paramValue,
  rangesAccept,
  reasonPhrase,
  splitOutside,
  toOf,
  trimLws,
  type MediaType,
  type SipRequest,
} from '../message/index.js';

export interface RequestCheckOptions {
  /** Methods this element implements (case-sensitive). Include CANCEL and ACK. */
  allowedMethods: readonly string[];
  /** Option-tags this element supports (Require is checked against them). */
  supportedExtensions: readonly string[];
  /** Request-URI schemes this element serves, e.g. ['sip', 'sips']. */
  uriSchemes: readonly string[];
  /** Methods this element relays onward, refused with 483 at Max-Forwards 0. */
  forwardedMethods?: readonly string[];
}

export interface RequestRejection {
  status: number;
  reason?: string;
  /** Headers the response must carry (Allow, Unsupported, Accept, Accept-Encoding). */
  headers?: Array<[string, string]>;
}

/** Methods defined by RFC 3261 and its extensions: refused with 405, others with 501. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
]);

/** Body types this UAS understands in offer/answer requests. */
export const ACCEPTED_BODY_TYPES = 'application/sdp, multipart/mixed';

const BODY_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'PRACK']);

function reject(
  status: number,
  detail?: string,
  headers?: Array<[string, string]>,
): RequestRejection {
  const out: RequestRejection = { status };
  if (detail !== undefined) out.reason = `${reasonPhrase(status)} (${detail})`;
  if (headers !== undefined) out.headers = headers;
  return out;
}

export function checkRequest(
  req: SipRequest,
  opts: RequestCheckOptions,
): RequestRejection | undefined {
  const method = req.method;
  if (method === 'ACK') return undefined;

  const allow = (): Array<[string, string]> => [['Allow', opts.allowedMethods.join(', ')]];
  const allowed = opts.allowedMethods.includes(method);

  // §8.2.1: a method nobody defined is answered 501 before anything else (RFC 4475
  // mismatch02 expects 501 even though its CSeq names another method).
  if (!allowed && !KNOWN_METHODS.has(method)) return reject(501, undefined, allow());

  // Syntax and consistency come before the remaining §8.2 checks: a broken SIP
  // Request-URI or a CSeq naming another method is a 400 whatever the method (RFC 4475
  // escruri, mismatch01), so a server that lacks a method still reports the real fault.
  const colon = req.uri.indexOf(':');
  const scheme = colon > 0 ? req.uri.slice(0, colon).toLowerCase() : '';
  if (scheme === 'sip' || scheme === 'sips') {
    const uri = attempt(() => requestUriOf(req));
    if (uri === undefined) return reject(400, 'bad Request-URI');
    if (isSipUri(uri) && uri.headers.length > 0) return reject(400, 'headers in Request-URI');
  }
  const cseq = attempt(() => cseqOf(req));
  if (cseq === undefined) return reject(400, 'bad CSeq');
  if (cseq.method !== method) return reject(400, 'CSeq method mismatch');

  // §8.2.1: a defined method this element does not implement.
  if (!allowed) return reject(405, undefined, allow());

  // §8.2.2.1: the Request-URI scheme.
  if (!opts.uriSchemes.some((s) => s.toLowerCase() === scheme)) return reject(416);
  if (attempt(() => requestUriOf(req)) === undefined) return reject(400, 'bad Request-URI');

  if (method === 'REGISTER') {
    const to = attempt(() => toOf(req));
    if (to === undefined || !isSipUri(to.uri)) return reject(400, 'To is not a SIP URI');
  }

  if (opts.forwardedMethods?.includes(method)) {
    const mf = attempt(() => maxForwardsOf(req));
    if (mf === 0) return reject(483);
  }

  // §8.2.2.3: Require (ignored in CANCEL, which must be processed whatever it says).
  const require = method === 'CANCEL' ? [] : req.headers.getAll('Require');
  if (require.length > 0) {
    const supported = new Set(opts.supportedExtensions.map((t) => t.toLowerCase()));
    const unsupported: string[] = [];
    for (const value of require) {
      for (const raw of value.split(',')) {
        const tag = trimLws(raw);
        if (tag === '') continue;
        if (!isToken(tag)) return reject(400, 'bad Require');
        if (!supported.has(tag.toLowerCase())) unsupported.push(tag);
      }
    }
    if (unsupported.length > 0) {
      return reject(420, undefined, [['Unsupported', unsupported.join(', ')]]);
    }
  }

  // §8.2.3: content processing, for the methods whose body is an offer or answer.
  if (BODY_METHODS.has(method) && req.body.length > 0) {
    const verdict = checkBody(req);
    if (verdict) return verdict;
  }

  if (method === 'INVITE') {
    const accept = req.headers.getAll('Accept');
    if (accept.length > 0 && !acceptsSdp(accept)) {
      return reject(406, 'Accept excludes application/sdp');
    }
  }
  return undefined;
}

function checkBody(req: SipRequest): RequestRejection | undefined {
  for (const value of req.headers.getAll('Content-Encoding')) {
    for (const coding of value.split(',')) {
      const c = trimLws(coding).toLowerCase();
      if (c !== '' && c !== 'identity') {
        return reject(415, 'Content-Encoding', [['Accept-Encoding', 'identity']]);
      }
    }
  }
  const typeText = req.headers.get('Content-Type');
  // RFC 3261 §20.15: a non-empty body MUST come with a Content-Type.
  if (typeText === undefined) return reject(400, 'body without Content-Type');
  const type = attempt(() => parseMediaType(typeText));
  if (type === undefined) return reject(400, 'bad Content-Type');
  if (isSdp(type)) return undefined;
  if (type.type === 'multipart' && type.subtype === 'mixed') {
    const boundary = paramValue(type.params, 'boundary');
    if (boundary !== undefined && boundary !== '' && multipartHasSdp(req.body, boundary)) {
      return undefined;
    }
  }
  return reject(415, undefined, [['Accept', ACCEPTED_BODY_TYPES]]);
}

function isSdp(type: Pick<MediaType, 'type' | 'subtype'>): boolean {
  return type.type === 'application' && type.subtype === 'sdp';
}

/** True when one body part of a multipart body (RFC 2046 §5.1) is application/sdp. */
function multipartHasSdp(body: Buffer, boundary: string): boolean {
  const delimiter = Buffer.from(`--${boundary}`, 'utf8');
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const after = pos + delimiter.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) return false;
    const eol = body.indexOf(0x0a, after);
    if (eol < 0) return false;
    const next = body.indexOf(delimiter, eol + 1);
    const part = body.subarray(eol + 1, next < 0 ? body.length : next);
    // The part's headers end at its first empty line (a part may have none at all, and
    // is then text/plain, RFC 2046 §5.1.1).
    if (part[0] === 0x0a || (part[0] === 0x0d && part[1] === 0x0a)) {
      pos = next;
      continue;
    }
    let headEnd = part.indexOf('\n\r\n');
    const lf = part.indexOf('\n\n');
    if (lf >= 0 && (headEnd < 0 || lf < headEnd)) headEnd = lf;
    if (headEnd >= 0 && partHasSdpType(part.toString('latin1', 0, headEnd))) return true;
    pos = next;
  }
  return false;
}

function partHasSdpType(head: string): boolean {
  let pos = 0;
  while (pos < head.length) {
    let nl = head.indexOf('\n', pos);
    if (nl < 0) nl = head.length;
    const line = head.slice(pos, head.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl);
    pos = nl + 1;
    const colon = line.indexOf(':');
    if (colon > 0 && trimLws(line.slice(0, colon)).toLowerCase() === 'content-type') {
      const type = attempt(() => parseMediaType(line.slice(colon + 1)));
      return type !== undefined && isSdp(type);
    }
  }
  return false;
}

/** An Accept header that lists no usable ranges accepts nothing (RFC 3261 §20.1). */
function acceptsSdp(values: string[]): boolean {
  const ranges: MediaType[] = [];
  for (const value of values) {
    for (const piece of attempt(() => splitOutside(value, ',')) ?? []) {
      if (trimLws(piece) === '') continue;
      const range = attempt(() => parseMediaRange(piece));
      if (range) ranges.push(range);
    }
  }
  return rangesAccept(ranges, 'application', 'sdp');
}
