/**
 * Our SDP on one leg across the session (RFC 3264 §8): the `o=` session id stays, and
 * the version goes up by exactly one each time we send a changed description; re-sending
 * the same description (a session refresh, a retransmitted re-offer) keeps the version.
 */
import { buildSdpWith, type SdpDescription, type SdpOriginFields } from './build.js';

export interface LocalSdp {
  readonly origin: SdpOriginFields;
  /** The description last written, and its text; both absent before the first. */
  readonly description?: SdpDescription;
  readonly body?: string;
}

/** A leg before it has sent any SDP. `sessionVersion` is the first version to use. */
export function createLocalSdp(origin: SdpOriginFields): LocalSdp {
  return { origin };
}

/**
 * The SDP to send now for `description`: the previous body when nothing changed, else a
 * new body with the version incremented (the first body keeps the initial version).
 */
export function renderLocalSdp(previous: LocalSdp, description: SdpDescription): LocalSdp {
  const same = buildSdpWith(description, previous.origin);
  if (previous.body === undefined) return { origin: previous.origin, description, body: same };
  if (same === previous.body) return previous;
  const origin = { ...previous.origin, sessionVersion: previous.origin.sessionVersion + 1 };
  return { origin, description, body: buildSdpWith(description, origin) };
}
