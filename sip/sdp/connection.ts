/**
 * The connection address of a stream (RFC 4566 §5.7): `c=IN IP4 <addr>` or
 * `c=IN IP6 <addr>`, media-level overriding session-level. We relay unicast RTP to an
 * IP address; multicast (`/ttl`) and host names are refused as unsupported.
 */
import { isHostname, isIPv4Address, isIPv6Address } from '../message/uri.js';
import { sdpFailure, type SdpFailure } from './errors.js';
import { intIn, text } from './fields.js';
import type { AddressFamily } from './types.js';

export interface ConnectionAddress {
  ok: true;
  address: string;
  family: AddressFamily;
  /** RFC 2543 hold (RFC 3264 §8.4). */
  nullAddress: boolean;
}

/** `connection` as sdp-transform parsed it: `{ version, ip }`. */
export function readConnection(
  connection: { version?: unknown; ip?: unknown } | undefined,
): ConnectionAddress | SdpFailure {
  if (connection === undefined) return sdpFailure('SDP_MALFORMED', 'no c= line for the audio');
  const version = intIn(connection.version, 0, 9);
  const ip = text(connection.ip);
  if (ip === undefined || (version !== 4 && version !== 6)) {
    return sdpFailure('SDP_MALFORMED', 'bad c= line');
  }
  if (version === 4 ? isIPv4Address(ip) : isIPv6Address(ip)) {
    return {
      ok: true,
      address: ip,
      family: version === 4 ? 'IP4' : 'IP6',
      nullAddress: ip === '0.0.0.0',
    };
  }
  if (ip.includes('/')) return sdpFailure('SDP_UNSUPPORTED', 'multicast c= is not supported');
  if (isHostname(ip)) {
    return sdpFailure('SDP_UNSUPPORTED', 'a host name in c= is not supported');
  }
  return sdpFailure('SDP_MALFORMED', `bad address in c=IN IP${version}`);
}
