/**
 * sdp-transform returns what its regular expressions captured: a field typed `number`
 * may be a string (`"007"`, `""`) or missing, and a list typed `string` may be a number
 * (`m=video 0 RTP/AVP 96` gives `payloads: 96`). These readers take such a value as
 * `unknown` and return it only when it is what the RFC allows.
 */

/** A non-negative integer within [min, max], from a number or a string of digits. */
export function intIn(value: unknown, min: number, max: number): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value.length > 0 && value.length <= 10 && isDigits(value))
    n = Number(value);
  else return undefined;
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/** A positive finite number (ptime may be fractional, RFC 4566 §6). */
export function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A non-empty string (numbers are written back as text). */
export function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The space-separated fmt list of an m-line (RFC 4566 §5.14), empty tokens dropped. */
export function fmtList(value: unknown): string[] {
  const s = text(value);
  return s === undefined ? [] : s.split(' ').filter((t) => t.length > 0);
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
