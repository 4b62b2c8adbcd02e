/**
 * The Date header value of a 200 to REGISTER (RFC 3261 §10.3 step 8, §20.17: an
 * RFC 1123 date in GMT, one-second resolution). Formatting a Date per registration
 * costs more than the rest of the header work of the 200; the text only changes once a
 * second, so the last one is kept.
 */
let cachedSecond = Number.NaN;
let cachedText = '';

/** The Date header text for the wall-clock time `nowMs` (default: now). */
export function dateHeaderValue(nowMs: number = Date.now()): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== cachedSecond) {
    cachedText = new Date(second * 1000).toUTCString();
    cachedSecond = second;
  }
  return cachedText;
}
