/**
 * RFC 3264 §8: a re-sent description that did not change keeps its `o=` line, version
 * included; a changed one has the version incremented. So an offer whose origin equals
 * the previous one from the same peer is the same session (a session refresh, RFC 4028),
 * and can be answered with our previous answer without touching the other leg.
 */
import type { SdpOrigin } from './types.js';

export function isSameSdpVersion(previous: SdpOrigin, next: SdpOrigin): boolean {
  return (
    previous.username === next.username &&
    previous.sessionId === next.sessionId &&
    previous.sessionVersion === next.sessionVersion &&
    previous.address === next.address
  );
}
