/**
 * The Event header of RFC 6665 §8.2.1 (and §7.2 of its grammar):
 *
 *   Event       = ( "Event" / "o" ) HCOLON event-type *( SEMI event-param )
 *   event-type  = event-package *( "." event-template )
 *   event-param = generic-param / ( "id" EQUAL token )
 *
 * Exactly one event type per header and one Event header per SUBSCRIBE (RFC 6665
 * §8.2.1, §4.1.2). The package name compares byte by byte, the `id` too (§8.2.1).
 * Pure: never throws.
 */
import { isToken, parseParams, trimLws } from '../message/index.js';

export interface EventHeader {
  /** The event type as written (package and templates, e.g. `dialog`). */
  readonly type: string;
  /** The `id` parameter (§8.2.1), when present. */
  readonly id: string | undefined;
}

export type EventHeaderResult =
  { ok: true; event: EventHeader } | { ok: false; reason: 'missing' | 'several' | 'malformed' };

/** Reads the Event header values of a request (all lines named Event or `o`). */
export function parseEventHeader(values: readonly string[]): EventHeaderResult {
  if (values.length === 0) return { ok: false, reason: 'missing' };
  if (values.length > 1) return { ok: false, reason: 'several' };
  const text = values[0] as string;
  const semi = text.indexOf(';');
  const type = trimLws(semi < 0 ? text : text.slice(0, semi));
  // token-nodot *( "." token-nodot ): a token with no empty part between dots.
  if (!isToken(type) || type.split('.').some((part) => part.length === 0)) {
    return { ok: false, reason: type.includes(',') ? 'several' : 'malformed' };
  }
  let id: string | undefined;
  if (semi >= 0) {
    try {
      const params = parseParams(text.slice(semi + 1), 'Event parameter');
      const value = params.get('id');
      if (value === null) return { ok: false, reason: 'malformed' };
      if (value !== undefined) {
        if (!isToken(value)) return { ok: false, reason: 'malformed' };
        id = value;
      }
    } catch {
      return { ok: false, reason: 'malformed' };
    }
  }
  return { ok: true, event: { type, id } };
}

/** The Event header value of our NOTIFYs: the subscription's type and id (§8.2.1). */
export function formatEventHeader(event: EventHeader): string {
  return event.id === undefined ? event.type : `${event.type};id=${event.id}`;
}
