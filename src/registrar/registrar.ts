/**
 * REGISTER processing (RFC 3261 §10.3, steps 6-8) for an already authenticated
 * extension: add, refresh, remove (`Contact: *` with Expires 0), query (no Contact),
 * 423 with Min-Expires for too short intervals. Contacts are stored exactly as sent.
 * Pure: the clock reading and the request come in, a response description goes out.
 */
import { cseqOf, callIdOf, parseDeltaSeconds } from '../../sip/message/accessors.js';
import type { SipRequest } from '../../sip/message/message.js';
import { parseNameAddr, type NameAddr } from '../../sip/message/nameAddr.js';
import { SipParseError } from '../../sip/message/errors.js';
import type { Source } from '../../sip/transport/types.js';
import { contactKey } from './contactKey.js';
import type { Binding, LocationService } from './locationService.js';

export interface RegistrarOptions {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  maxContactsPerExtension: number;
}

export interface RegisterResult {
  status: number;
  reason?: string;
  headers: Array<[string, string]>;
}

interface ContactUpdate {
  contact: string;
  uri: string;
  key: string;
  expires: number;
}

export class Registrar {
  constructor(
    private readonly location: LocationService,
    private readonly options: RegistrarOptions,
  ) {}

  handle(request: SipRequest, extension: string, source: Source, now: number): RegisterResult {
    const callId = callIdOf(request);
    const cseq = cseqOf(request).seq;
    const contacts = request.headers.getAll('Contact');
    const headerExpires = request.headers.get('Expires');
    let defaultExpires = this.options.defaultExpires;
    try {
      if (headerExpires !== undefined) defaultExpires = parseDeltaSeconds(headerExpires);
    } catch {
      return { status: 400, reason: 'Bad Expires', headers: [] };
    }

    if (contacts.some((c) => c.trim() === '*')) {
      // §10.3 step 6: "*" only alone and only with Expires: 0.
      if (contacts.length !== 1 || headerExpires === undefined || defaultExpires !== 0) {
        return { status: 400, reason: 'Wildcard Contact needs Expires: 0', headers: [] };
      }
      const stale = this.location
        .bindingsOf(extension)
        .some((b) => b.callId === callId && b.cseq >= cseq);
      if (stale) return { status: 500, reason: 'Out of order REGISTER', headers: [] };
      this.location.removeAll(extension, 'removed');
      return this.ok(extension, now);
    }

    let updates: ContactUpdate[];
    try {
      updates = contacts.map((contact) =>
        this.contactUpdate(
          request.headers.parseCached(contact, parseNameAddr),
          contact,
          defaultExpires,
        ),
      );
    } catch (err) {
      const reason = err instanceof SipParseError ? err.message : 'Bad Contact';
      return { status: 400, reason, headers: [] };
    }
    // §10.3 step 5/7: intervals below the minimum are refused with Min-Expires.
    if (updates.some((u) => u.expires > 0 && u.expires < this.options.minExpires)) {
      return {
        status: 423,
        headers: [['Min-Expires', String(this.options.minExpires)]],
      };
    }
    // §10.3 step 7: an older REGISTER of the same Call-ID must not undo a newer one.
    for (const u of updates) {
      const existing = this.location.bindingsOf(extension).find((b) => b.key === u.key);
      if (existing && existing.callId === callId && existing.cseq >= cseq) {
        return { status: 500, reason: 'Out of order REGISTER', headers: [] };
      }
    }
    const userAgent = request.headers.get('User-Agent');
    for (const u of updates) {
      if (u.expires === 0) {
        this.location.remove(extension, u.key, 'removed');
        continue;
      }
      const binding: Binding = {
        extension,
        contact: u.contact,
        uri: u.uri,
        key: u.key,
        callId,
        cseq,
        expiresAt: now + u.expires * 1000,
        registeredAt: now,
        source,
      };
      if (userAgent !== undefined) binding.userAgent = userAgent;
      this.location.upsert(binding);
    }
    this.enforceContactLimit(extension);
    return this.ok(extension, now);
  }

  private contactUpdate(addr: NameAddr, contact: string, defaultExpires: number): ContactUpdate {
    const param = addr.params.get('expires');
    let expires = defaultExpires;
    if (param !== undefined) {
      if (param === null) throw new SipParseError('expires parameter without a value');
      expires = parseDeltaSeconds(param);
    }
    expires = Math.min(expires, this.options.maxExpires);
    return { contact, uri: addr.uriText, key: contactKey(addr.uri), expires };
  }

  /** Keeps the newest bindings when an extension has more than allowed. */
  private enforceContactLimit(extension: string): void {
    const list = [...this.location.bindingsOf(extension)];
    const excess = list.length - this.options.maxContactsPerExtension;
    if (excess <= 0) return;
    list.sort((a, b) => a.registeredAt - b.registeredAt);
    for (const b of list.slice(0, excess)) this.location.remove(extension, b.key, 'replaced');
  }

  /** 200 OK listing every current binding with its remaining time (§10.3 step 8). */
  private ok(extension: string, now: number): RegisterResult {
    const headers: Array<[string, string]> = [];
    for (const b of this.location.activeBindings(extension, now)) {
      const remaining = Math.max(0, Math.round((b.expiresAt - now) / 1000));
      headers.push(['Contact', `<${b.uri}>;expires=${remaining}`]);
    }
    return { status: 200, headers };
  }
}
