/**
 * A leg's counters (protocol.ts MediaCounters) as a class, so every leg's object has the
 * same hidden class and the packet path's `counters.x++` stays monomorphic. A worker's
 * totals are the sum of its closed legs (folded in at close) and its live ones: the hot
 * path increments one object only.
 */
import type { MediaCounters } from './protocol.js';

export class Counters implements MediaCounters {
  packetsIn = 0;
  bytesIn = 0;
  rtpIn = 0;
  packetsOut = 0;
  bytesOut = 0;
  rtcpIn = 0;
  rtcpOut = 0;
  dropMalformed = 0;
  dropForeign = 0;
  dropEarlyRtcp = 0;
  dropPayloadType = 0;
  dropDirection = 0;
  dropDtmf = 0;
  dropNoDestination = 0;
  dropStale = 0;
  dropCodec = 0;
  internalErrors = 0;

  /** Adds every counter of `other` to this one. */
  add(other: MediaCounters): this {
    for (const key of COUNTER_KEYS) this[key] += other[key];
    return this;
  }

  /** A plain copy (what crosses the worker boundary). */
  snapshot(): MediaCounters {
    return { ...this };
  }
}

export const COUNTER_KEYS: readonly (keyof MediaCounters)[] = Object.keys(
  new Counters(),
) as (keyof MediaCounters)[];
