/**
 * Browser tickets for SIP over WebSocket (docs/architecture.md §8.9): the web app asks the
 * API for a ticket (`POST /v1/sip-tickets`) instead of holding the extension's SIP
 * password, and opens `/sip?ticket=…`. A ticket is 32 random bytes (base64url: nothing to
 * forge, nothing to sign), good once, for TICKET_TTL_MS. Redeemed at the upgrade, it binds
 * that connection (its flow, RFC 5626 §3) to the extension; the registrar and the call
 * service accept REGISTER and INVITE as that extension from a bound flow without a digest
 * challenge (the flow is the credential) and challenge any other identity as usual.
 *
 * Pure state, no timers: expired tickets are dropped as new ones are issued, and at most
 * MAX_OUTSTANDING are held (the oldest go first).
 */
import { randomBytes } from 'node:crypto';
import type { Endpoint } from '../../sip/transport/types.js';

/** How long a ticket may wait for its upgrade. */
export const TICKET_TTL_MS = 30_000;
/** Tickets not yet redeemed, at most (a client asking in a loop cannot grow memory). */
export const MAX_OUTSTANDING = 10_000;

export interface IssuedTicket {
  ticket: string;
  /** Wall-clock ms after which the ticket is refused. */
  expiresAt: number;
}

export class SipTickets {
  /** ticket → extension and expiry, oldest first (Map keeps insertion order). */
  private readonly outstanding = new Map<string, { extension: string; expiresAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = TICKET_TTL_MS,
  ) {}

  get size(): number {
    return this.outstanding.size;
  }

  issue(extension: string): IssuedTicket {
    const now = this.now();
    for (const [t, e] of this.outstanding) {
      if (e.expiresAt > now && this.outstanding.size < MAX_OUTSTANDING) break;
      this.outstanding.delete(t);
    }
    const ticket = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.outstanding.set(ticket, { extension, expiresAt });
    return { ticket, expiresAt };
  }

  /** The extension of a valid ticket, which is used up; undefined for any other string. */
  redeem(ticket: string): string | undefined {
    const entry = this.outstanding.get(ticket);
    if (entry === undefined) return undefined;
    this.outstanding.delete(ticket);
    return entry.expiresAt > this.now() ? entry.extension : undefined;
  }
}

/** Which extension each ticket-opened WebSocket flow is bound to. */
export class FlowIdentities {
  private readonly byFlow = new Map<string, string>();

  private static key(flow: Endpoint): string {
    return `${flow.protocol}:${flow.address}:${flow.port}`;
  }

  get size(): number {
    return this.byFlow.size;
  }

  bind(flow: Endpoint, extension: string): void {
    this.byFlow.set(FlowIdentities.key(flow), extension);
  }

  unbind(flow: Endpoint): void {
    this.byFlow.delete(FlowIdentities.key(flow));
  }

  /** The extension a request's source flow is bound to (only ws/wss flows ever are). */
  extensionOf(source: Endpoint): string | undefined {
    if (source.protocol !== 'ws' && source.protocol !== 'wss') return undefined;
    return this.byFlow.get(FlowIdentities.key(source));
  }
}
