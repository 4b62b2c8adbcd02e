/**
 * A supervisor's feature code (`*90<ext>`…) reaching an instance that does not anchor the
 * agent's call (docs/architecture.md "Several instances"): the instance looks the agent's
 * call up in the shared index and answers `302 Moved Temporarily` with a Contact at the
 * owner (RFC 3261 §21.3.3). The proxy in front (deploy/kamailio/kamailio.cfg) follows it
 * itself and relays the INVITE to the owner, so the phone never sees the redirect and the
 * owner authenticates the supervisor (its own digest challenge, its own nonce) and applies
 * every permission check exactly as on one instance.
 *
 * The redirect comes before authentication, since the credentials of an INVITE the owner
 * challenged are for the owner's nonce. It is given only to requests that came through a
 * proxy (two Vias or more), names only the instance's SIP address, and only for an
 * extension in a call; everything else (an agent in a local call, or in no call, or not a
 * feature code) goes on to the normal handling. Redis unreachable: `480` with Retry-After
 * (not 503, which would make the proxy take this instance out).
 */
import type { IncomingRequest } from '../../sip/stack.js';
import { newTag } from '../../sip/ids.js';
import {
  allVias,
  buildResponse,
  isSipUri,
  requestUriOf,
  toTag,
  unescapeUri,
  type SipRequest,
} from '../../sip/message/index.js';
import type { MonitorMode } from '../monitoring/modes.js';
import { parseFeatureCode } from '../monitoring/featureCodes.js';
import type { Logger } from '../logging.js';
import { ClusterUnavailableError } from './redisConnection.js';

/** The agent a redirectable feature-code INVITE asks for, and the user part to keep. */
export interface RedirectCandidate {
  agent: string;
  user: string;
}

/** Pure: whether `request` is a new feature-code INVITE that came through a proxy. */
export function redirectCandidate(
  request: SipRequest,
  codes: Readonly<Record<MonitorMode, string>>,
): RedirectCandidate | undefined {
  if (request.method !== 'INVITE' || toTag(request) !== undefined) return undefined;
  if (allVias(request).length < 2) return undefined;
  let uri;
  try {
    uri = requestUriOf(request);
  } catch {
    return undefined;
  }
  if (!isSipUri(uri) || uri.user === undefined) return undefined;
  const code = parseFeatureCode(unescapeUri(uri.user), codes);
  return code === undefined ? undefined : { agent: code.target, user: uri.user };
}

export interface FeatureCodeRedirectDeps {
  instanceId: string;
  featureCodes: Readonly<Record<MonitorMode, string>>;
  /** Whether the extension is in a call this instance holds. */
  isInLocalCall(extension: string): boolean;
  /** The instance holding the extension's live call; rejects without Redis. */
  ownerOfExtension(extension: string): Promise<string | undefined>;
  /** A live instance's SIP `host:port`; rejects without Redis. */
  sipOf(instance: string): Promise<string | undefined>;
  userAgent: string;
  logger: Logger;
}

export class FeatureCodeRedirect {
  constructor(private readonly deps: FeatureCodeRedirectDeps) {}

  /**
   * Takes the request when it may belong to another instance (true): it is then either
   * answered here or handed to `local`, once the owner is known. False: not ours.
   */
  route(incoming: IncomingRequest, local: (incoming: IncomingRequest) => void): boolean {
    const candidate = redirectCandidate(incoming.request, this.deps.featureCodes);
    if (candidate === undefined || this.deps.isInLocalCall(candidate.agent)) return false;
    void this.redirect(incoming, candidate, local).catch((err: unknown) => {
      this.deps.logger.error({ err }, 'redirecting a feature code failed');
      this.respond(incoming, 500, 'Server Internal Error');
    });
    return true;
  }

  private async redirect(
    incoming: IncomingRequest,
    candidate: RedirectCandidate,
    local: (incoming: IncomingRequest) => void,
  ): Promise<void> {
    let owner: string | undefined;
    let sip: string | undefined;
    try {
      owner = await this.deps.ownerOfExtension(candidate.agent);
      if (owner === undefined || owner === this.deps.instanceId) {
        local(incoming);
        return;
      }
      sip = await this.deps.sipOf(owner);
    } catch (err) {
      if (!(err instanceof ClusterUnavailableError)) throw err;
      this.respond(incoming, 480, 'Shared State Unavailable', [['Retry-After', '5']]);
      return;
    }
    if (sip === undefined) {
      // The owner's heartbeat lapsed: it is dead and the call's media with it.
      local(incoming);
      return;
    }
    this.deps.logger.info(
      { agent: candidate.agent, owner },
      'feature code for a call on another instance: redirected to it',
    );
    this.respond(incoming, 302, 'Moved Temporarily', [
      ['Contact', `<sip:${candidate.user}@${sip}>`],
    ]);
  }

  private respond(
    incoming: IncomingRequest,
    status: number,
    reason: string,
    headers: Array<[string, string]> = [],
  ): void {
    incoming.respond(
      buildResponse(incoming.request, status, {
        toTag: newTag(),
        reason,
        headers: [...headers, ['Server', this.deps.userAgent]],
      }),
    );
  }
}
