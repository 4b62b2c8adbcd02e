/**
 * Where a response goes (RFC 3261 §18.2.2 with RFC 3581 §4): over the connection the
 * request came on when it is still open (reliable transports; for WebSocket, RFC 7118
 * §5, the only way back); otherwise to the
 * `received` address (or the sent-by host) and the `rport` port (or the sent-by port, or
 * the transport's default port). `maddr` (multicast) is not supported and is ignored.
 */
import type { Via } from '../message/via.js';
import { socketHost } from '../message/uri.js';
import type { Source, TransportProtocol } from './types.js';

export const DEFAULT_SIP_PORT = 5060;

export function responseDestination(via: Via, source: Source): Source {
  // The response goes back over the transport the request arrived on, whatever the Via
  // claims (a UDP request with a TCP Via must not make us open a TCP connection).
  const protocol: TransportProtocol = source.protocol;
  if (protocol !== 'udp' && source.connectionId !== undefined) return source;
  const received = via.params.get('received');
  const rport = via.params.get('rport');
  const address = received ?? socketHost(via.host);
  let port = via.port ?? DEFAULT_SIP_PORT;
  if (rport !== undefined && rport !== null && /^[0-9]{1,5}$/.test(rport)) port = Number(rport);
  return { protocol, address, port };
}

/**
 * RFC 3261 §18.2.1 and RFC 3581 §4: on receipt the server records in the top Via where
 * the request really came from: `received` when the sent-by host differs from the
 * source address, and the source port in an empty `rport`.
 */
export function stampReceived(via: Via, source: Source): boolean {
  let changed = false;
  if (socketHost(via.host) !== source.address) {
    via.params.set('received', source.address);
    changed = true;
  }
  if (via.params.has('rport') && via.params.get('rport') === null) {
    via.params.set('rport', String(source.port));
    if (!via.params.has('received')) via.params.set('received', source.address);
    changed = true;
  }
  return changed;
}

/** Whether stampReceived() would change `via` (it reads the Via without touching it). */
export function needsReceivedStamp(via: Via, source: Source): boolean {
  return (
    socketHost(via.host) !== source.address ||
    (via.params.has('rport') && via.params.get('rport') === null)
  );
}
