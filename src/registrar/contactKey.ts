/**
 * A key under which two contact URIs are "the same binding" (RFC 3261 §10.3 step 7
 * compares URIs by §19.1.4): scheme and host are case-insensitive, the user part is
 * compared unescaped and case-sensitively, an absent port equals the default port, and
 * the transport, user, method, maddr and ttl parameters take part when present.
 */
import { isSipUri, unescapeUri, type Uri } from '../../sip/message/uri.js';

const SIGNIFICANT_PARAMS = ['transport', 'user', 'method', 'maddr', 'ttl'];

export function contactKey(uri: Uri): string {
  if (!isSipUri(uri)) return `${uri.scheme}:${JSON.stringify(uri)}`;
  const user = uri.user !== undefined ? unescapeUri(uri.user) : '';
  const port = uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060);
  let key = `${uri.scheme}:${user}@${uri.host.toLowerCase()}:${port}`;
  for (const name of SIGNIFICANT_PARAMS) {
    const value = uri.params.get(name);
    if (value !== undefined) key += `;${name}=${(value ?? '').toLowerCase()}`;
  }
  return key;
}
