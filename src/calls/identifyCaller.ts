/**
 * Who places a call: a trunk, recognised by the INVITE's source address (and port when
 * configured) and, when it has inboundAuth, by digest with its own credentials; or an
 * extension, which must prove it with digest authentication as a
 * proxy asks for it (RFC 3261 §22.3: 407 with Proxy-Authenticate, credentials in
 * Proxy-Authorization). The authenticated user must be the From user (else 403: one
 * extension may not call as another).
 */
import { challengeHeaderName, credentialsHeaderName } from '../../sip/auth/authResult.js';
import type { AuthResult } from '../../sip/auth/authResult.js';
import type { DigestAuthenticator } from '../../sip/auth/authenticator.js';
import { fromOf, isSipUri, unescapeUri, type SipRequest } from '../../sip/message/index.js';
import type { Source } from '../../sip/transport/types.js';
import type { TrunkConfig } from '../config/schema.js';
import { trunkForSource, type Caller } from './dialPlan.js';

export type Identified =
  | { ok: true; caller: Caller; trunk?: TrunkConfig }
  | { ok: false; status: number; reason?: string; headers: Array<[string, string]> };

export interface IdentifyDeps {
  trunks: readonly TrunkConfig[];
  /** Knows extensions' and trunks' (inboundAuth) credentials. */
  authenticator: DigestAuthenticator;
  isExtension(username: string): boolean;
  onAuthResult?(result: AuthResult, request: SipRequest, source: Source): void;
  /** The extension a browser ticket bound `source`'s flow to, if any (src/http/sipTickets.ts). */
  flowExtension?(source: Source): string | undefined;
}

export function identifyCaller(
  request: SipRequest,
  source: Source,
  deps: IdentifyDeps,
): Identified {
  const trunk = trunkForSource(deps.trunks, source.address, source.port);
  if (trunk !== undefined && trunk.inboundAuth === null) {
    return { ok: true, caller: { kind: 'trunk', trunk: trunk.name }, trunk };
  }
  // A ticket-bound WebSocket flow places calls as its extension without a challenge.
  const bound = deps.flowExtension?.(source);
  if (bound !== undefined && trunk === undefined && deps.isExtension(bound)) {
    const fromUri = fromOf(request).uri;
    if (isSipUri(fromUri) && fromUri.user !== undefined && unescapeUri(fromUri.user) === bound) {
      return { ok: true, caller: { kind: 'extension', extension: bound } };
    }
  }
  const auth = verifyDigest(request, source, deps);
  if (!auth.ok) return auth;
  if (trunk !== undefined) {
    // A trunk that must also authenticate: with its own credentials only.
    if (auth.username !== trunk.inboundAuth?.username) {
      return { ok: false, status: 403, reason: 'Not This Trunk', headers: [] };
    }
    return { ok: true, caller: { kind: 'trunk', trunk: trunk.name }, trunk };
  }
  // A trunk's credentials never place calls as an extension, from anywhere.
  if (!deps.isExtension(auth.username)) {
    return { ok: false, status: 403, reason: 'Not An Extension', headers: [] };
  }
  const from = fromOf(request).uri;
  const user = isSipUri(from) && from.user !== undefined ? unescapeUri(from.user) : undefined;
  if (user !== auth.username) {
    return { ok: false, status: 403, reason: 'From Is Not You', headers: [] };
  }
  return { ok: true, caller: { kind: 'extension', extension: auth.username } };
}

/** Digest with Proxy-Authorization (RFC 3261 §22.3): the user, or the response to send. */
function verifyDigest(
  request: SipRequest,
  source: Source,
  deps: IdentifyDeps,
): { ok: true; username: string } | Extract<Identified, { ok: false }> {
  const auth = deps.authenticator.verify({
    method: request.method,
    authorizationHeaderValues: request.headers.getAll(credentialsHeaderName('proxy')),
    sourceAddress: source.address,
    // Behind a trusted proxy, failures count against the phone's address below it.
    via: request.headers.getAll('Via'),
    requestUri: request.uri,
  });
  if (auth.outcome !== 'ok') deps.onAuthResult?.(auth, request, source);
  switch (auth.outcome) {
    case 'challenge':
      return {
        ok: false,
        status: 407,
        headers: deps.authenticator
          .challenge({ stale: auth.stale })
          .map((c): [string, string] => [challengeHeaderName('proxy'), c]),
      };
    case 'forbidden':
      return { ok: false, status: 403, reason: 'Too Many Failed Attempts', headers: [] };
    case 'bad-request':
      return {
        ok: false,
        status: 400,
        reason: `Bad Proxy-Authorization (${auth.reason})`,
        headers: [],
      };
    case 'ok':
      return { ok: true, username: auth.username };
  }
}
