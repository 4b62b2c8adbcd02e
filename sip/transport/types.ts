/** Transport-level addressing shared by the transports, the transaction layer and users. */

/**
 * `ws` and `wss` are SIP over WebSocket (RFC 7118): connections the HTTP server accepts
 * and hands to the transport layer (ws.ts); we never open one ourselves.
 */
export type TransportProtocol = 'udp' | 'tcp' | 'ws' | 'wss';

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

/** SIP over WebSocket, either form (RFC 7118 §5). */
export function isWebSocket(protocol: TransportProtocol): protocol is 'ws' | 'wss' {
  return protocol === 'ws' || protocol === 'wss';
}

/** Whether two addresses name the same flow: same transport, address and port (RFC 5626 §3). */
export function sameFlow(a: Endpoint, b: Endpoint): boolean {
  return a.protocol === b.protocol && a.address === b.address && a.port === b.port;
}
