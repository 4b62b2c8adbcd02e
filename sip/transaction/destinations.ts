/**
 * Where a layer's server transactions send their responses, one shared object per peer.
 *
 * A non-INVITE server transaction over UDP lingers 64·T1 (32 s) in Completed to resend its
 * final response (RFC 3261 §17.2.2), and holds its destination all that time. Computed per
 * request (§18.2.2, responseRouting.ts), that is one more object per lingering transaction,
 * and its address is cut from the request's top Via: V8 keeps a cut of 13 characters or
 * more (an IPv4 address such as 192.168.100.123) as a slice that keeps the whole Via text,
 * and with it the request, alive. Shared here, a peer costs one object with its own strings.
 */
import type { Source } from '../transport/types.js';
import { detached } from '../util/detached.js';

/** Peers remembered; the table starts over when full (a peer then gets a new object). */
const MAX_PEERS = 4096;

export class Destinations {
  private readonly byPeer = new Map<string, Source>();

  /** The shared equivalent of `destination` (a connection's own flow is kept as it is). */
  shared(destination: Source): Source {
    if (destination.connectionId !== undefined) return destination;
    const key = `${destination.protocol} ${destination.address} ${destination.port}`;
    const known = this.byPeer.get(key);
    if (known !== undefined) return known;
    if (this.byPeer.size >= MAX_PEERS) this.byPeer.clear();
    const own: Source = {
      protocol: destination.protocol,
      address: detached(destination.address),
      port: destination.port,
    };
    this.byPeer.set(detached(key), own);
    return own;
  }

  get size(): number {
    return this.byPeer.size;
  }
}
