/** Transport-level addressing shared by the transports, the transaction layer and users. */

export type TransportProtocol = 'udp' | 'tcp';

/** A remote or local transport address. */
export interface Endpoint {
  protocol: TransportProtocol;
  address: string;
  port: number;
}

/**
 * Where a message came from. For connection-oriented transports `connectionId`
 * identifies the connection it arrived on, so responses go back over it (§18.2.2).
 */
export interface Source extends Endpoint {
  connectionId?: number;
}

export function endpointKey(e: Endpoint): string {
  return `${e.protocol}:${e.address}:${e.port}`;
}
