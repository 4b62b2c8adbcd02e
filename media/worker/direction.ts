/**
 * What a leg's direction (the engine's SDP attribute toward that leg's endpoint, RFC 3264
 * §5.1 and §6.1; see MediaDirection) allows on the packet path.
 */
import type { MediaDirection } from './protocol.js';

/** The engine sends RTP to the endpoint: sendrecv or sendonly. */
export function sendsToEndpoint(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

/** The engine accepts RTP from the endpoint: sendrecv or recvonly. */
export function receivesFromEndpoint(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}
