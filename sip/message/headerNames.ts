/**
 * Header names: canonical spelling, RFC 3261 §7.3.3 compact forms, and which headers
 * are comma-separated lists (RFC 3261 §7.3.1: `Name: a, b` equals `Name: a` + `Name: b`).
 */

/** Compact form → full name (RFC 3261 §7.3.3 and the extensions that define one). */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

/** Names whose canonical spelling is not simple Title-Case. */
const IRREGULAR: readonly string[] = [
  'Call-ID',
  'CSeq',
  'MIME-Version',
  'RAck',
  'RSeq',
  'SIP-ETag',
  'SIP-If-Match',
  'P-Asserted-Identity',
  'P-Preferred-Identity',
  'Min-SE',
  'WWW-Authenticate',
];
const IRREGULAR_BY_LOWER = new Map(IRREGULAR.map((n) => [n.toLowerCase(), n]));

/**
 * Headers whose values are comma-separated lists and are split into one entry per
 * element at parse time. Authorization-style headers are not lists (their parameters
 * contain commas) and neither are Date, Retry-After or free text.
 */
const LIST_HEADERS = new Set(
  [
    'Via',
    'Contact',
    'Route',
    'Record-Route',
    'Path',
    'Service-Route',
    'Allow',
    'Allow-Events',
    'Supported',
    'Require',
    'Proxy-Require',
    'Unsupported',
    'Accept',
    'Accept-Encoding',
    'Accept-Language',
    'Content-Encoding',
    'Content-Language',
    'Alert-Info',
    'Call-Info',
    'Error-Info',
    'In-Reply-To',
    'Reason',
    'Warning',
    'Accept-Contact',
    'Reject-Contact',
    'Request-Disposition',
  ].map((n) => n.toLowerCase()),
);

const canonicalCache = new Map<string, string>();

function titleCase(lower: string): string {
  let out = '';
  let upper = true;
  for (let i = 0; i < lower.length; i++) {
    const ch = lower[i] as string;
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}

/** The canonical spelling of a header name, expanding compact forms. Case-insensitive. */
export function canonicalHeaderName(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const result =
    (lower.length === 1 ? COMPACT[lower] : undefined) ??
    IRREGULAR_BY_LOWER.get(lower) ??
    titleCase(lower);
  // Bound the cache: names come from the network.
  if (canonicalCache.size < 1024) canonicalCache.set(name, result);
  return result;
}

const LIST_CANONICAL = new Set([...LIST_HEADERS].map((n) => canonicalHeaderName(n)));

/** True when the header's value is a comma-separated list (see LIST_HEADERS). */
export function isListHeader(canonicalName: string): boolean {
  return LIST_CANONICAL.has(canonicalName) || LIST_HEADERS.has(canonicalName.toLowerCase());
}

/**
 * The headers nearly every message carries, in their canonical spelling (the unit tests
 * check canonicalHeaderName() keeps each as it is).
 */
export const COMMON_HEADERS: readonly string[] = [
  'Via',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Contact',
  'Max-Forwards',
  'Content-Type',
  'Content-Length',
  'User-Agent',
  'Allow',
  'Supported',
  'Record-Route',
  'Route',
  'Expires',
  'Server',
];

/** COMMON_HEADERS by length. */
const COMMON_BY_LENGTH: ReadonlyArray<readonly string[]> = (() => {
  const byLength: string[][] = [];
  for (const name of COMMON_HEADERS) (byLength[name.length] ??= []).push(name);
  return byLength;
})();

/**
 * The canonical name when `line[0, end)` is one of the common headers spelled
 * canonically, else undefined: the parser's shortcut around slicing the name out and
 * looking it up (a message's dozen header lines each did).
 */
export function commonHeaderName(line: string, end: number): string | undefined {
  const candidates = COMMON_BY_LENGTH[end];
  if (candidates === undefined) return undefined;
  for (const name of candidates) if (line.startsWith(name)) return name;
  return undefined;
}
