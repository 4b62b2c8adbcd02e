/**
 * A message kept as its wire bytes. A server transaction that has answered keeps its
 * final response for up to 64·T1 only to absorb retransmissions (RFC 3261 §17.2.2);
 * held as a parsed object that is kilobytes of small strings per transaction,
 * which the garbage collector copies and marks over and over under load. Held as bytes
 * it is one flat string (the bytes as latin1, so any byte survives the round trip; a
 * Buffer would pin an 8 KB pool slab each): retransmissions send those bytes as they are,
 * and the parsed form is rebuilt only if something asks for the headers or body
 * (diagnostics, tests).
 */
import type { SipHeaders } from './headers.js';
import { SipHeaders as Headers } from './headers.js';
import type { SipRequest, SipResponse } from './message.js';
import { parseMessage } from './parse.js';
import { serializeMessage } from './serialize.js';

const EMPTY = Buffer.alloc(0);

/** The parsed form of `wire`; a message that does not parse back yields no headers. */
function reparse(wire: string): { headers: SipHeaders; body: Buffer } {
  const result = parseMessage(Buffer.from(wire, 'latin1'));
  if (result.ok) return result.message;
  return { headers: new Headers(), body: EMPTY };
}

abstract class WireMessage {
  private parsed: { headers: SipHeaders; body: Buffer } | undefined;

  constructor(
    /** The bytes serializeMessage() produced, as latin1; sent again as they are. */
    readonly wire: string,
    public version: string,
  ) {}

  /**
   * The bytes to send, while nothing has read (and so possibly changed) the parsed form;
   * serializeMessage() uses them.
   */
  wireBytes(): Buffer | undefined {
    return this.parsed === undefined ? Buffer.from(this.wire, 'latin1') : undefined;
  }

  get headers(): SipHeaders {
    return (this.parsed ??= reparse(this.wire)).headers;
  }

  set headers(headers: SipHeaders) {
    (this.parsed ??= reparse(this.wire)).headers = headers;
  }

  get body(): Buffer {
    return (this.parsed ??= reparse(this.wire)).body;
  }

  set body(body: Buffer) {
    (this.parsed ??= reparse(this.wire)).body = body;
  }
}

export class WireRequest extends WireMessage implements SipRequest {
  readonly kind = 'request' as const;
  /** Read from the start line when asked: a parsed URI is a slice of the whole message
   * text and would keep that text alive. */
  private ownUri: string | undefined;

  constructor(
    wire: string,
    public method: string,
    version: string,
  ) {
    super(wire, version);
  }

  get uri(): string {
    if (this.ownUri === undefined) {
      const start = this.wire.indexOf(' ') + 1;
      const bytes = Buffer.from(this.wire.slice(start, this.wire.indexOf(' ', start)), 'latin1');
      this.ownUri = bytes.toString('utf8');
    }
    return this.ownUri;
  }

  set uri(uri: string) {
    this.ownUri = uri;
  }
}

export class WireResponse extends WireMessage implements SipResponse {
  readonly kind = 'response' as const;

  constructor(
    wire: string,
    public status: number,
    public reason: string,
    version: string,
  ) {
    super(wire, version);
  }
}

/** The same message held as its bytes (a message already held so is returned as is). */
export function toWire(message: SipRequest): SipRequest;
export function toWire(message: SipResponse): SipResponse;
export function toWire(message: SipRequest | SipResponse): SipRequest | SipResponse {
  if (message instanceof WireMessage) return message;
  if (message.kind === 'response') return toWireWithBytes(message).held;
  const wire = serializeMessage(message).toString('latin1');
  return new WireRequest(wire, message.method, message.version);
}

/**
 * A response held as its bytes together with those bytes, serialized once: for a
 * response that is sent now and kept for retransmissions.
 */
export function toWireWithBytes(message: SipResponse): { held: SipResponse; bytes: Buffer } {
  const bytes = serializeMessage(message);
  if (message instanceof WireMessage) return { held: message, bytes };
  const wire = bytes.toString('latin1');
  return {
    held: new WireResponse(wire, message.status, message.reason, message.version),
    bytes,
  };
}
