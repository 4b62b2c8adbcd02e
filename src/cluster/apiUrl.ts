/**
 * Where the other instances reach this instance's HTTP API (docs/architecture.md
 * "Several instances"): `cluster.apiUrl`, else built from the HTTP listener. A wildcard
 * listening address names no host, so the SIP advertised (or listening) address stands in.
 */
import type { Config } from '../config/schema.js';

const WILDCARD = new Set(['0.0.0.0', '::']);

export function clusterApiUrl(config: Config, tls: boolean): string {
  if (config.cluster.apiUrl !== null) return config.cluster.apiUrl;
  const { address, port } = config.http;
  if (port === null) return ''; // no HTTP API: nothing is ever forwarded here
  const host = WILDCARD.has(address)
    ? (config.sip.advertisedAddress ?? config.sip.listen.address)
    : address;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${bracketed}:${port}`;
}
