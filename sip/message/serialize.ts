/**
 * Serializes a message to wire bytes (RFC 3261 §7). Each header value goes on its own
 * line in stored order; Content-Length is always written last and always matches the
 * body, so framing on stream transports can never disagree with the body.
 *
 * A CR or LF inside a header value or the start line (which the parser never produces,
 * but application code could) would end the line early and inject a header; each one is
 * written as a space instead.
 */
import type { SipMessage } from './message.js';

function oneLine(s: string): string {
  return s.includes('\r') || s.includes('\n') ? s.replace(/[\r\n]/g, ' ') : s;
}

export function serializeMessage(msg: SipMessage): Buffer {
  // A message held as its bytes (wire.ts) whose parsed form nobody has touched.
  const wire = (msg as { wireBytes?: () => Buffer | undefined }).wireBytes?.();
  if (wire !== undefined) return wire;
  let head =
    msg.kind === 'request'
      ? `${oneLine(msg.method)} ${oneLine(msg.uri)} ${oneLine(msg.version)}\r\n`
      : `${oneLine(msg.version)} ${msg.status} ${oneLine(msg.reason)}\r\n`;
  for (const field of msg.headers.entries()) {
    if (field.name === 'Content-Length') continue;
    head += `${oneLine(field.name)}: ${oneLine(field.value)}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headLength);
  return out;
}
