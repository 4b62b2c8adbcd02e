/**
 * Parses one SIP message from a datagram or a framed stream chunk (RFC 3261 §7).
 *
 * The parser checks the syntax of the start line and of the headers every layer relies
 * on (Via, From, To, Call-ID, CSeq, Max-Forwards, Contact, Content-Type, Content-Length)
 * and frames the body. Semantic checks that need the element's configuration (method,
 * URI scheme, Require, body type) belong to `checkRequest` in sip/core.
 *
 * A refused request is returned with the failure when it can be answered: it is not an
 * ACK, its top Via can be read (to route the response) and it has a CSeq (so the client
 * can match the response). Everything else is dropped (RFC 3261 §18.3, RFC 4475 §3.1.2).
 * A well-formed SIP-Version other than 2.0 is answered 505, and that takes precedence
 * over any other fault (RFC 3261 §21.5.6, RFC 4475 §3.1.2.16).
 *
 * Everything here is linear in the size of the message: no regular expression runs on
 * network input, and each header is scanned a bounded number of times.
 */
import { parseMaxForwards, parseViaLenient } from './accessors.js';
import { parseCSeq } from './cseq.js';
import { SipParseError, type SipErrorCode } from './errors.js';
import { canonicalHeaderName, commonHeaderName, isListHeader } from './headerNames.js';
import { SipHeaders, type HeaderField } from './headers.js';
import { attempt, isDigit, isDigits, isToken, isWsp, splitOutside, trimLws } from './lexer.js';
import { parseMediaType } from './mediaType.js';
import type { SipMessage, SipRequest, SipResponse } from './message.js';
import { parseNameAddr } from './nameAddr.js';
import { parseUri } from './uri.js';
import { parseVia } from './via.js';

export type ParseResult =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      error: SipParseError;
      /** The request as far as it was read, when it can be answered with error.status. */
      request?: SipRequest;
    };

const EMPTY = Buffer.alloc(0);

export function parseMessage(data: Buffer): ParseResult {
  try {
    return parse(data);
  } catch (err) {
    // Every expected fault is reported through the result; only a parser bug gets here.
    // It still must not crash the transport that called us.
    const error =
      err instanceof SipParseError
        ? err
        : new SipParseError(`parser fault: ${String(err)}`, 400, 'SIP_INTERNAL');
    return { ok: false, error };
  }
}

/** The first fault found; later ones are not interesting once the message is refused. */
class Faults {
  first: SipParseError | undefined;
  /** The top Via could not even be split out of its header line. */
  viaBroken = false;

  add(message: string, code: SipErrorCode = 'SIP_BAD_SYNTAX', status = 400): void {
    this.first ??= new SipParseError(message, status, code);
  }

  from(err: unknown, context: string): void {
    if (!(err instanceof SipParseError)) throw err;
    this.add(`${context}: ${err.message}`, err.code, err.status);
  }
}

function parse(data: Buffer): ParseResult {
  // RFC 3261 §7.5: CRLFs before the start line are ignored.
  let start = 0;
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++;
  if (start >= data.length) return drop('empty message', 'SIP_BAD_FRAMING');

  const faults = new Faults();
  const { headEnd, bodyStart } = findHeaderEnd(data, start);
  if (bodyStart < 0) faults.add('no empty line after the header section', 'SIP_BAD_FRAMING');
  const lines = logicalLines(data.toString('utf8', start, headEnd), faults);
  const startLine = lines[0] ?? '';

  if (startsWithSipVersion(startLine))
    return parseResponse(startLine, lines, data, bodyStart, faults);
  return parseRequest(startLine, lines, data, bodyStart, faults);
}

function drop(message: string, code: SipErrorCode = 'SIP_BAD_SYNTAX'): ParseResult {
  return { ok: false, error: new SipParseError(message, 400, code) };
}

/**
 * Finds the empty line ending the header section. Lines end in CRLF; a bare LF is
 * tolerated. Returns where the header text ends and where the body starts (-1: none).
 */
function findHeaderEnd(data: Buffer, start: number): { headEnd: number; bodyStart: number } {
  const crlf = data.indexOf('\n\r\n', start);
  const limit = crlf >= 0 ? crlf + 1 : data.length;
  const lf = data.subarray(0, limit).indexOf('\n\n', start);
  if (lf >= 0) return { headEnd: lf, bodyStart: lf + 2 };
  if (crlf >= 0) return { headEnd: crlf, bodyStart: crlf + 3 };
  return { headEnd: data.length, bodyStart: -1 };
}

/**
 * Splits the header section into lines and unfolds continuation lines (a line starting
 * with SP or HTAB continues the previous header, RFC 3261 §7.3.1).
 */
function logicalLines(head: string, faults: Faults): string[] {
  const lines: string[] = [];
  let pos = 0;
  while (pos <= head.length) {
    let nl = head.indexOf('\n', pos);
    if (nl < 0) nl = head.length;
    let end = nl;
    if (end > pos && head.charCodeAt(end - 1) === 0x0d) end--;
    let line = head.slice(pos, end);
    pos = nl + 1;
    if (line.includes('\r')) {
      faults.add('bare CR in the header section');
      line = line.split('\r').join(' ');
    }
    if (lines.length > 0 && line.length > 0 && isWsp(line.charCodeAt(0))) {
      if (lines.length === 1) faults.add('the start line cannot be folded');
      else lines[lines.length - 1] += ' ' + trimLws(line);
    } else {
      lines.push(line);
    }
  }
  return lines;
}

function startsWithSipVersion(s: string): boolean {
  return (
    s.length >= 4 &&
    (s.charCodeAt(0) | 0x20) === 0x73 &&
    (s.charCodeAt(1) | 0x20) === 0x69 &&
    (s.charCodeAt(2) | 0x20) === 0x70 &&
    s.charCodeAt(3) === 0x2f
  );
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; returns [major, minor] or undefined. */
function parseVersion(s: string): [number, number] | undefined {
  if (!startsWithSipVersion(s)) return undefined;
  const dot = s.indexOf('.', 4);
  if (dot < 0) return undefined;
  const major = s.slice(4, dot);
  const minor = s.slice(dot + 1);
  if (!isDigits(major) || !isDigits(minor) || major.length > 9 || minor.length > 9) {
    return undefined;
  }
  return [Number(major), Number(minor)];
}

/** Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
function parseResponse(
  startLine: string,
  lines: string[],
  data: Buffer,
  bodyStart: number,
  faults: Faults,
): ParseResult {
  const sp = startLine.indexOf(' ');
  const versionText = sp < 0 ? startLine : startLine.slice(0, sp);
  const version = parseVersion(versionText);
  if (!version) return drop('bad SIP version in status line');
  if (version[0] !== 2 || version[1] !== 0) {
    return drop(
      `SIP version ${versionText.slice(0, 20)} not supported`,
      'SIP_VERSION_NOT_SUPPORTED',
    );
  }
  const code = startLine.slice(sp + 1, sp + 4);
  const after = startLine.charCodeAt(sp + 4);
  if (
    sp < 0 ||
    code.length !== 3 ||
    !isDigit(code.charCodeAt(0)) ||
    !isDigit(code.charCodeAt(1)) ||
    !isDigit(code.charCodeAt(2)) ||
    !(Number.isNaN(after) || after === 0x20)
  ) {
    return drop('bad status line');
  }
  const status = Number(code);
  if (status < 100 || status > 699) return drop('status code out of range');
  const headers = parseHeaderLines(lines, faults);
  const body = readBody(data, bodyStart, headers, faults);
  const sipHeaders = new SipHeaders(headers);
  checkEssentialHeaders(headers, faults, sipHeaders);
  if (faults.first) return { ok: false, error: faults.first };
  const message: SipResponse = {
    kind: 'response',
    status,
    reason: startLine.slice(sp + 5),
    version: 'SIP/2.0',
    headers: sipHeaders,
    body,
  };
  return { ok: true, message };
}

/** Request-Line = Method SP Request-URI SP SIP-Version (single spaces, RFC 3261 §7.1). */
function parseRequest(
  startLine: string,
  lines: string[],
  data: Buffer,
  bodyStart: number,
  faults: Faults,
): ParseResult {
  const firstSp = startLine.indexOf(' ');
  let versionEnd = startLine.length;
  while (versionEnd > 0 && startLine.charCodeAt(versionEnd - 1) === 0x20) versionEnd--;
  const lastSp = startLine.lastIndexOf(' ', versionEnd - 1);
  const versionText = startLine.slice(lastSp + 1, versionEnd);
  // Without a SIP version it is not a SIP request at all (an HTTP probe, noise): drop.
  if (firstSp <= 0 || lastSp <= firstSp || !startsWithSipVersion(versionText)) {
    return drop('not a SIP start line');
  }
  const method = startLine.slice(0, firstSp);
  const uri = trimLws(startLine.slice(firstSp + 1, lastSp));
  const version = parseVersion(versionText);
  let versionFault: SipParseError | undefined;
  if (!version) {
    faults.add(`bad SIP version "${versionText.slice(0, 20)}"`);
  } else if (version[0] !== 2 || version[1] !== 0) {
    versionFault = new SipParseError(
      `SIP version ${versionText.slice(0, 20)} not supported`,
      505,
      'SIP_VERSION_NOT_SUPPORTED',
    );
  }
  if (!isToken(method)) faults.add('bad method');
  if (startLine.length !== firstSp + 1 + uri.length + 1 + versionText.length) {
    faults.add('extra whitespace in the request line');
  }
  const headers = parseHeaderLines(lines, faults);
  const sipHeaders = new SipHeaders(headers);
  if (uri === '' || uri.includes(' ') || uri.includes('\t')) {
    faults.add('bad Request-URI');
  } else {
    try {
      sipHeaders.parseCached(uri, parseUri);
    } catch (err) {
      faults.from(err, 'Request-URI');
    }
  }
  const body = readBody(data, bodyStart, headers, faults);
  if (!versionFault) checkEssentialHeaders(headers, faults, sipHeaders);
  const request: SipRequest = {
    kind: 'request',
    method,
    uri,
    version: versionText.toUpperCase(),
    headers: sipHeaders,
    body,
  };
  const error = versionFault ?? faults.first;
  if (!error) return { ok: true, message: request };
  return canAnswer(request, headers, faults) ? { ok: false, error, request } : { ok: false, error };
}

/**
 * Answerable: not an ACK (never answered, RFC 3261 §17), a readable top Via to route the
 * response by (RFC 3261 §18.2.2) and a CSeq for the client to match it with.
 */
function canAnswer(request: SipRequest, fields: HeaderField[], faults: Faults): boolean {
  if (request.method === 'ACK' || faults.viaBroken) return false;
  let via: string | undefined;
  let cseq = false;
  for (const f of fields) {
    if (f.name === 'Via') via ??= f.value;
    else if (f.name === 'CSeq') cseq = true;
  }
  return cseq && via !== undefined && attempt(() => parseVia(via)) !== undefined;
}

function parseHeaderLines(lines: string[], faults: Faults): HeaderField[] {
  const fields: HeaderField[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line === '') continue;
    const colon = line.indexOf(':');
    let nameEnd = colon;
    while (nameEnd > 0 && isWsp(line.charCodeAt(nameEnd - 1))) nameEnd--;
    let name = colon < 0 ? undefined : commonHeaderName(line, nameEnd);
    if (name === undefined) {
      const rawName = colon < 0 ? '' : line.slice(0, nameEnd);
      if (!isToken(rawName)) {
        faults.add(`bad header line "${line.slice(0, 40)}"`);
        continue;
      }
      name = canonicalHeaderName(rawName);
    }
    const value = trimLws(line.slice(colon + 1));
    if (value.includes(',') && isListHeader(name)) {
      let elements: string[];
      try {
        elements = splitOutside(value, ',');
      } catch (err) {
        faults.from(err, name);
        if (name === 'Via') faults.viaBroken = true;
        continue;
      }
      for (const element of elements) {
        // Empty elements (`a,,b`, a trailing comma) carry nothing; only Via cares.
        if (element !== '') fields.push({ name, value: element });
        else if (name === 'Via') faults.add('empty Via value');
      }
    } else {
      fields.push({ name, value });
    }
  }
  return fields;
}

/**
 * Frames the body (RFC 3261 §18.3): Content-Length when present (a datagram shorter than
 * it is an error, octets beyond it are discarded), otherwise the rest of the datagram.
 * Conflicting Content-Length values make the body's extent unknowable (RFC 4475 §3.3.9).
 */
function readBody(data: Buffer, bodyStart: number, fields: HeaderField[], faults: Faults): Buffer {
  if (bodyStart < 0) return EMPTY;
  let text: string | undefined;
  for (const f of fields) {
    if (f.name !== 'Content-Length') continue;
    if (text === undefined) text = f.value;
    else if (f.value !== text) {
      faults.add('conflicting Content-Length values', 'SIP_BAD_FRAMING');
      return EMPTY;
    }
  }
  if (text === undefined) return data.subarray(bodyStart);
  const available = data.length - bodyStart;
  if (!isDigits(text)) {
    faults.add(`bad Content-Length "${text.slice(0, 20)}"`, 'SIP_BAD_FRAMING');
    return EMPTY;
  }
  const length = text.length > 10 ? Infinity : Number(text);
  if (length > available) {
    faults.add('Content-Length larger than the message', 'SIP_BAD_FRAMING');
    return EMPTY;
  }
  return data.subarray(bodyStart, bodyStart + length);
}

/**
 * Every message needs exactly one Call-ID, CSeq, From and To and at least one Via
 * (RFC 3261 §8.1.1, RFC 4475 §3.3.1, §3.3.8); each of those, and Max-Forwards, Contact
 * and Content-Type when present, must parse. One pass over the fields collects them.
 */
function checkEssentialHeaders(fields: HeaderField[], faults: Faults, cache: SipHeaders): void {
  // The first value of each header and how many there are: no per-message arrays or
  // closures, as this runs for every message received.
  let callId: string | undefined;
  let cseq: string | undefined;
  let from: string | undefined;
  let to: string | undefined;
  let maxForwards: string | undefined;
  let contentType: string | undefined;
  let callIds = 0;
  let cseqs = 0;
  let froms = 0;
  let tos = 0;
  let maxForwardses = 0;
  let contentTypes = 0;
  let vias = 0;
  for (const f of fields) {
    switch (f.name) {
      case 'Via':
        vias++;
        break;
      case 'Call-ID':
        if (callIds++ === 0) callId = f.value;
        break;
      case 'CSeq':
        if (cseqs++ === 0) cseq = f.value;
        break;
      case 'From':
        if (froms++ === 0) from = f.value;
        break;
      case 'To':
        if (tos++ === 0) to = f.value;
        break;
      case 'Max-Forwards':
        if (maxForwardses++ === 0) maxForwards = f.value;
        break;
      case 'Content-Type':
        if (contentTypes++ === 0) contentType = f.value;
        break;
    }
  }
  exactlyOne(faults, callIds, 'Call-ID');
  exactlyOne(faults, cseqs, 'CSeq');
  exactlyOne(faults, froms, 'From');
  exactlyOne(faults, tos, 'To');
  if (vias === 0) faults.add('missing Via', 'SIP_BAD_HEADER_COUNT');
  if (maxForwardses > 1) faults.add('more than one Max-Forwards', 'SIP_BAD_HEADER_COUNT');
  if (contentTypes > 1) faults.add('more than one Content-Type', 'SIP_BAD_HEADER_COUNT');
  if (faults.first) return;
  if (callId !== undefined && !isCallId(callId)) faults.add('bad Call-ID');
  // Parsed through the message's memo, so the layers above read these for free.
  if (cseq !== undefined) check(faults, 'CSeq', cache, cseq, parseCSeq);
  if (from !== undefined) check(faults, 'From', cache, from, parseNameAddr);
  if (to !== undefined) check(faults, 'To', cache, to, parseNameAddr);
  // Strictly parsed; a strict parse that passes equals the lenient one readers share.
  for (const f of fields) {
    if (f.name === 'Via') check(faults, 'Via', cache, f.value, parseViaStrict, parseViaLenient);
  }
  if (maxForwards !== undefined)
    check(faults, 'Max-Forwards', undefined, maxForwards, parseMaxForwards);
  for (const f of fields) {
    if (f.name === 'Contact' && f.value !== '*') {
      check(faults, 'Contact', cache, f.value, parseNameAddr);
    }
  }
  if (contentType !== undefined) {
    check(faults, 'Content-Type', undefined, contentType, parseMediaType);
  }
}

function exactlyOne(faults: Faults, count: number, name: string): void {
  if (count === 0) faults.add(`missing ${name}`, 'SIP_BAD_HEADER_COUNT');
  else if (count > 1) faults.add(`more than one ${name}`, 'SIP_BAD_HEADER_COUNT');
}

const parseViaStrict = (text: string) => parseVia(text, { strict: true });

/**
 * Parses `text` (through `cache`, the message's memo, when given), recording the first
 * fault; nothing more once there is one.
 */
function check(
  faults: Faults,
  name: string,
  cache: SipHeaders | undefined,
  text: string,
  parse: (text: string) => unknown,
  key: unknown = parse,
): void {
  if (faults.first) return;
  try {
    if (cache === undefined) parse(text);
    else cache.parseCached(text, parse, key);
  } catch (err) {
    faults.from(err, name);
  }
}

/**
 * Call-ID = word [ "@" word ]. Any visible character is accepted (several stacks put
 * `=` or `#` in Call-IDs, which `word` does not list); whitespace and controls are not.
 */
function isCallId(value: string): boolean {
  if (value === '') return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}
