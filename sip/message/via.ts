/**
 * Via (RFC 3261 §20.42, §18.2.1) with received/rport (RFC 3581).
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 *
 * SLASH, COLON and SEMI allow LWS around them (RFC 4475 §3.1.1.1 uses all of it).
 */
import { SipParseError } from './errors.js';
import { isDigits, isTokenChar, isWsp, skipLws } from './lexer.js';
import { formatParams, parseParams, type Params } from './params.js';
import { isIPv4Address, isIPv6Address, parseHostPort } from './uri.js';

/** RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with this cookie. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  /** `SIP/2.0`. */
  protocol: string;
  /** Upper-case transport: `UDP`, `TCP`, `TLS`, `WS`, … */
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

export interface ViaOptions {
  /**
   * Reject empty parameters (`;;`). Off by default so that the top Via of a request the
   * parser refused (RFC 4475 §3.1.2.1) can still be read to route the 400; parseMessage
   * itself validates every Via strictly.
   */
  strict?: boolean;
}

function readToken(text: string, at: number): number {
  while (at < text.length && isTokenChar(text.charCodeAt(at))) at++;
  return at;
}

export function parseVia(text: string, options: ViaOptions = {}): Via {
  let i = skipLws(text, 0);
  const parts: string[] = [];
  for (let k = 0; k < 3; k++) {
    if (k > 0) {
      if (text.charCodeAt(i) !== 0x2f) throw new SipParseError('bad Via sent-protocol');
      i = skipLws(text, i + 1);
    }
    const end = readToken(text, i);
    if (end === i) throw new SipParseError('bad Via sent-protocol');
    parts.push(text.slice(i, end));
    i = skipLws(text, end);
  }
  const [name = '', version = '', transport = ''] = parts;
  if (i === 0 || !isWsp(text.charCodeAt(i - 1))) throw new SipParseError('Via without sent-by');
  // sent-by: host [ SWS ":" SWS port ]
  const hostStart = i;
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf(']', i);
    if (close < 0) throw new SipParseError('unterminated IPv6 reference in Via');
    i = close + 1;
  } else {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x3a || c === 0x3b || isWsp(c)) break;
      i++;
    }
  }
  let hostport = text.slice(hostStart, i);
  i = skipLws(text, i);
  if (text.charCodeAt(i) === 0x3a) {
    i = skipLws(text, i + 1);
    const portStart = i;
    while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    hostport += `:${text.slice(portStart, i)}`;
    i = skipLws(text, i);
  }
  const { host, port } = parseHostPort(hostport);
  let params: Params = new Map();
  if (i < text.length) {
    if (text.charCodeAt(i) !== 0x3b) throw new SipParseError('junk after Via sent-by');
    params = parseParams(text.slice(i + 1), 'Via parameter', { allowEmpty: !options.strict });
    checkViaParams(params);
  }
  const via: Via = {
    protocol: `${name.toUpperCase()}/${version}`,
    transport: transport.toUpperCase(),
    host,
    params,
  };
  if (port !== undefined) via.port = port;
  return via;
}

/**
 * The parameters responses are routed by must be usable as they are: `received` is an
 * address (RFC 3261 §18.2.1), `rport` empty or a port (RFC 3581), `ttl` 0–255.
 */
function checkViaParams(params: Params): void {
  const received = params.get('received');
  if (received !== undefined) {
    const addr =
      received !== null && received.startsWith('[') && received.endsWith(']')
        ? received.slice(1, -1)
        : received;
    if (addr === null || (!isIPv4Address(addr) && !isIPv6Address(addr))) {
      throw new SipParseError('Via received is not an IP address');
    }
  }
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null) {
    if (rport.length > 5 || !isDigits(rport) || Number(rport) > 65535 || Number(rport) < 1) {
      throw new SipParseError('bad Via rport');
    }
  }
  const ttl = params.get('ttl');
  if (
    ttl !== undefined &&
    (ttl === null || ttl.length > 3 || !isDigits(ttl) || Number(ttl) > 255)
  ) {
    throw new SipParseError('bad Via ttl');
  }
  if (params.get('branch') === null) throw new SipParseError('Via branch without a value');
}

export function formatVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `${via.protocol}/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}

/** The branch parameter, if any. */
export function viaBranch(via: Via): string | undefined {
  return via.params.get('branch') ?? undefined;
}
