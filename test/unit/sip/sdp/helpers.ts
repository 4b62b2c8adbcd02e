/**
 * What the SDP tests share: parsing a body known to be valid, and the B2BUA's offer/answer
 * relay as a test walks it (A offers, the server offers B, B answers, the server answers
 * A), each step through buildSdp/parseSdp as on the wire.
 */
import {
  buildSdp,
  parseSdp,
  relayAnswer,
  relayOffer,
  type AnchorPolicy,
  type RelayedAnswer,
  type RelayedOffer,
  type SdpSession,
} from '../../../../sip/sdp/index.js';
import { sdp } from './fixtures.js';

/** Parses a body the test knows is valid. */
export function session(body: string): SdpSession {
  const result = parseSdp(body);
  if (!result.ok) throw new Error(`fixture does not parse: ${result.reason}`);
  return result.session;
}

/** Our media address toward A and toward B, and the origin our bodies carry. */
export const TOWARD_A = { address: '203.0.113.5', port: 30000 };
export const TOWARD_B = { address: '203.0.113.5', port: 30002 };
export const ORIGIN = { username: 'callwatch', sessionId: '1', sessionVersion: 1 };

/** Our offer to B for A's offer `a` (throws if refused). */
export function relayedOffer(a: string, policy: AnchorPolicy): RelayedOffer {
  const result = relayOffer(session(a), TOWARD_B, policy);
  if (!result.ok) throw new Error(`relayOffer failed: ${result.reason}`);
  return result;
}

/** What the other side receives: our description as it goes on the wire. */
export function wire(relayed: RelayedOffer | RelayedAnswer): SdpSession {
  return session(buildSdp({ ...relayed.description, origin: ORIGIN }));
}

/** Our answer to A once B answered `b` (throws if refused). */
export function answerToA(relayed: RelayedOffer, b: string): RelayedAnswer {
  const result = relayAnswer(relayed, session(b), TOWARD_A);
  if (!result.ok) throw new Error(`relayAnswer failed: ${result.reason}`);
  return result;
}

/** B's answer: a body with the given m-line and attributes. */
export function bAnswer(m: string, ...attributes: string[]): string {
  return sdp(
    'v=0',
    'o=- 9 9 IN IP4 10.2.2.2',
    's=-',
    'c=IN IP4 10.2.2.2',
    't=0 0',
    m,
    ...attributes,
  );
}
