/**
 * Which address a digest failure counts against when a request may have come through a
 * trusted SIP proxy. Pure.
 *
 * Behind a proxy every phone's request arrives from the proxy's address, so a lock-out
 * keyed by the packet's source would lock every phone out after one phone's wrong
 * passwords. For a request from a trusted proxy the key is the address of the element the
 * proxy received it from, read from the Via stack (RFC 3261 §18.2.1, RFC 3581): the
 * topmost Via is the proxy's own; the one below it was checked by the proxy, which adds
 * `received` when the packet's source differs from the Via's sent-by, so that Via's
 * `received`, or else its sent-by host, is where the request came from. A chain of
 * trusted proxies is walked down the same way. When no such address can be read (no Via
 * below the proxy's, an unreadable Via, a host name instead of an address), the answer is
 * undefined: the request is limited by its user only.
 *
 * Only the address counts, not the port (`rport`): as for a direct request, one address
 * is one key, so a guesser cannot get fresh counts by changing ports.
 */
import { isIP } from 'node:net';
import { parseVia } from '../message/via.js';

function bare(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

/**
 * The key for per-address failure counting: `sourceAddress` itself unless it is a trusted
 * proxy; then the client address below it in `via` (the request's Via values, topmost
 * first), or undefined to count by user only.
 */
export function failureSourceKey(
  sourceAddress: string,
  via: readonly string[] | undefined,
  trustedProxies: ReadonlySet<string>,
): string | undefined {
  if (!trustedProxies.has(sourceAddress)) return sourceAddress;
  if (via === undefined) return undefined;
  // via[0] is the trusted proxy's own Via; each one below was checked by the one above.
  for (let i = 1; i < via.length; i++) {
    let address: string;
    try {
      const parsed = parseVia(via[i] as string);
      const received = parsed.params.get('received');
      address = bare(typeof received === 'string' ? received : parsed.host);
    } catch {
      return undefined;
    }
    if (isIP(address) === 0) return undefined;
    if (!trustedProxies.has(address)) return address;
  }
  return undefined;
}
