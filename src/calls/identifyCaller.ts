/**
 * Who places a call: a trunk, recognised by the INVITE's source address (and port when
 * configured), or an extension, which must prove it with digest authentication as a
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
  authenticator: DigestAuthenticator;
  onAuthResult?(result: AuthResult, request: SipRequest, source: Source): void;
}

export function identifyCaller(
  request: SipRequest,
  source: Source,
  deps: IdentifyDeps,
): Identified {
  const trunk = trunkForSource(deps.trunks, source.address, source.port);
  // Trunks with inboundAuth are not verified by digest yet: address only.
  if (trunk !== undefined) return { ok: true, caller: { kind: 'trunk', trunk: trunk.name }, trunk };

  const auth = deps.authenticator.verify({
    method: request.method,
    authorizationHeaderValues: request.headers.getAll(credentialsHeaderName('proxy')),
    sourceAddress: source.address,
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
      break;
  }
  const from = fromOf(request).uri;
  const user = isSipUri(from) && from.user !== undefined ? unescapeUri(from.user) : undefined;
  if (user !== auth.username)
    return { ok: false, status: 403, reason: 'From Is Not You', headers: [] };
  return { ok: true, caller: { kind: 'extension', extension: auth.username } };
}
