/**
 * Answers REGISTER (RFC 3261 §10.3): domain check, digest authentication (401 with one
 * challenge per algorithm, 403 when locked out), the authenticated user may only bind
 * its own extension, then the registrar updates the location service. A WebSocket flow
 * opened with a browser ticket (src/http/sipTickets.ts) registers its own extension
 * without a challenge; any other user on it is challenged as usual.
 */
import type { AuthResult } from '../../sip/auth/authResult.js';
import type { DigestAuthenticator } from '../../sip/auth/authenticator.js';
import { requestUriOf, toOf } from '../../sip/message/accessors.js';
import type { SipRequest, SipResponse } from '../../sip/message/message.js';
import { buildResponse } from '../../sip/message/response.js';
import { isSipUri, unescapeUri } from '../../sip/message/uri.js';
import { newTag } from '../../sip/ids.js';
import { dateHeaderValue } from './dateHeader.js';
import type { Source } from '../../sip/transport/types.js';
import type { Registrar } from './registrar.js';

export interface RegisterServiceDeps {
  authenticator: DigestAuthenticator;
  registrar: Registrar;
  isExtension(number: string): boolean;
  /** Domains served; empty serves any. */
  domains: readonly string[];
  now(): number;
  /** Called for every authentication that did not succeed (metrics, logs). */
  onAuthResult?(result: AuthResult, request: SipRequest, source: Source): void;
  /** The extension a ticket bound `source`'s flow to, if any (docs/architecture.md §8.9). */
  flowExtension?(source: Source): string | undefined;
}

export class RegisterService {
  private readonly domains: Set<string>;

  constructor(private readonly deps: RegisterServiceDeps) {
    this.domains = new Set(deps.domains.map((d) => d.toLowerCase()));
  }

  handle(request: SipRequest, source: Source): SipResponse {
    const reply = (status: number, reason?: string, headers: Array<[string, string]> = []) =>
      buildResponse(request, status, {
        toTag: newTag(),
        headers,
        ...(reason !== undefined ? { reason } : {}),
      });

    const requestUri = requestUriOf(request);
    if (!isSipUri(requestUri)) return reply(416);
    if (this.domains.size > 0 && !this.domains.has(requestUri.host.toLowerCase())) {
      return reply(404, 'Domain Not Served');
    }
    const aor = toOf(request).uri;
    if (!isSipUri(aor) || aor.user === undefined) return reply(404, 'No Such User');
    const extension = unescapeUri(aor.user);
    if (this.deps.flowExtension?.(source) === extension && this.deps.isExtension(extension)) {
      return this.bind(request, extension, source, reply);
    }

    const auth = this.deps.authenticator.verify({
      method: request.method,
      authorizationHeaderValues: request.headers.getAll('Authorization'),
      sourceAddress: source.address,
      via: request.headers.getAll('Via'),
      requestUri: request.uri,
    });
    if (auth.outcome !== 'ok') this.deps.onAuthResult?.(auth, request, source);
    switch (auth.outcome) {
      case 'challenge':
        return reply(
          401,
          undefined,
          this.deps.authenticator
            .challenge({ stale: auth.stale })
            .map((c): [string, string] => ['WWW-Authenticate', c]),
        );
      case 'forbidden':
        return reply(403, 'Too Many Failed Attempts');
      case 'bad-request':
        return reply(400, `Bad Authorization (${auth.reason})`);
      case 'ok':
        break;
    }
    // §10.3 step 3: the authenticated user must be allowed to bind this address of record.
    if (auth.username !== extension) return reply(403, 'Not Your Address Of Record');
    if (!this.deps.isExtension(extension)) return reply(404, 'No Such User');

    return this.bind(request, extension, source, reply);
  }

  /** The registrar's answer for an authenticated (or ticket-bound) REGISTER. */
  private bind(
    request: SipRequest,
    extension: string,
    source: Source,
    reply: (status: number, reason?: string, headers?: Array<[string, string]>) => SipResponse,
  ): SipResponse {
    const result = this.deps.registrar.handle(request, extension, source, this.deps.now());
    return reply(result.status, result.reason, [
      ...result.headers,
      ...(result.status === 200 ? [['Date', dateHeaderValue()] as [string, string]] : []),
    ]);
  }
}
