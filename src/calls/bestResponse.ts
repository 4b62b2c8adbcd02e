/**
 * Which final response goes back to the caller when every fork of a call failed
 * (RFC 3261 §16.7 step 6, applied by a B2BUA to its own forks):
 * - a 6xx wins over everything (a global failure: the callee declines everywhere);
 * - otherwise the lowest class among 4xx, 3xx and 5xx, with 4xx before 5xx so that a
 *   "486 Busy Here" from one phone beats a "500" from another;
 * - within a class the first response received wins;
 * - a 503 is never relayed as such (§16.7: it would make the caller's proxy try another
 *   server): it becomes 500;
 * - no response at all (every fork timed out) is 408 Request Timeout (§16.7 step 6).
 */

export interface ForkFailure {
  status: number;
  reason: string;
}

/** Lower is better. */
function rank(status: number): number {
  if (status >= 600) return 0;
  if (status >= 400 && status < 500) return 1;
  if (status >= 300 && status < 400) return 2;
  return 3; // 5xx
}

export function bestFinalResponse(failures: readonly ForkFailure[]): ForkFailure {
  let best: ForkFailure | undefined;
  for (const f of failures) {
    if (best === undefined || rank(f.status) < rank(best.status)) best = f;
  }
  if (best === undefined) return { status: 408, reason: 'Request Timeout' };
  if (best.status === 503) return { status: 500, reason: 'Server Internal Error' };
  return best;
}
