/**
 * Splits a SIP byte stream (TCP) into messages (RFC 3261 §18.3): the header section
 * ends at the first blank line and Content-Length, mandatory on streams, gives the body
 * size. CRLFs between messages are skipped; a lone double CRLF is an RFC 5626 §4.4.1
 * keep-alive ping, reported so the transport can answer with a single CRLF pong.
 *
 * Pure: no sockets. Bounded: a message over `maxMessageBytes`, a header section that
 * never ends within it, or an unreadable Content-Length is a framing error after which
 * the stream cannot be trusted (the caller closes the connection).
 */
export type FrameEvent =
  { kind: 'message'; data: Buffer } | { kind: 'ping' } | { kind: 'error'; reason: string };

const CONTENT_LENGTH_RE = /^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*$/im;

export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** Feeds received bytes; returns the complete frames they finished. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.failed) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const events: FrameEvent[] = [];
    for (;;) {
      const event = this.next();
      if (!event) break;
      events.push(event);
      if (event.kind === 'error') {
        this.failed = true;
        this.buffer = Buffer.alloc(0);
        break;
      }
    }
    return events;
  }

  /** Bytes held waiting for the rest of a message. */
  get pending(): number {
    return this.buffer.length;
  }

  private next(): FrameEvent | undefined {
    let start = 0;
    let crlfs = 0;
    while (
      start + 1 < this.buffer.length &&
      this.buffer[start] === 0x0d &&
      this.buffer[start + 1] === 0x0a
    ) {
      start += 2;
      crlfs++;
    }
    if (start > 0) {
      this.buffer = this.buffer.subarray(start);
      if (crlfs >= 2) return { kind: 'ping' };
    }
    if (this.buffer.length === 0) return undefined;
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      if (this.buffer.length > this.maxMessageBytes) {
        return { kind: 'error', reason: 'header section exceeds the maximum message size' };
      }
      return undefined;
    }
    const head = this.buffer.toString('latin1', 0, headEnd);
    const m = CONTENT_LENGTH_RE.exec(head);
    if (!m?.[1]) return { kind: 'error', reason: 'missing Content-Length on a stream transport' };
    if (m[1].length > 10) return { kind: 'error', reason: 'Content-Length too large' };
    const total = headEnd + 4 + Number(m[1]);
    if (total > this.maxMessageBytes) {
      return { kind: 'error', reason: `message of ${total} bytes exceeds the maximum` };
    }
    if (this.buffer.length < total) return undefined;
    const data = this.buffer.subarray(0, total);
    this.buffer = this.buffer.subarray(total);
    return { kind: 'message', data };
  }
}
