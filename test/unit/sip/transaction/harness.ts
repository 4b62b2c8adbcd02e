/**
 * Test vocabulary (docs/architecture.md §15.11): an in-memory transport that
 * records what the layer sends and when, and builders for the requests the tests use.
 */
import {
  SipHeaders,
  buildResponse,
  createRequest,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../../../sip/message/index.js';
import type { Source } from '../../../../sip/transport/types.js';
import {
  TransactionLayer,
  type ClientTransactionHandlers,
  type ReceiveRequestResult,
  type ServerTransaction,
  type TransactionLayerOptions,
} from '../../../../sip/transaction/index.js';
import { FakeClock } from './fakeClock.js';

export interface Sent {
  at: number;
  message: SipMessage;
  destination: Source;
}

export const UDP_PEER: Source = { protocol: 'udp', address: '192.0.2.10', port: 5060 };
export const TCP_PEER: Source = {
  protocol: 'tcp',
  address: '192.0.2.10',
  port: 5060,
  connectionId: 7,
};

/** A layer wired to a fake clock and an array of sent messages. */
export function setup(options: Partial<Omit<TransactionLayerOptions, 'clock' | 'send'>> = {}) {
  const clock = new FakeClock();
  const sent: Sent[] = [];
  const layer = new TransactionLayer({
    clock,
    send: (message, destination) => {
      sent.push({ at: clock.now(), message, destination });
    },
    ...options,
  });
  /** Instants (ms) at which requests of `method` were sent. */
  const requestTimes = (method: string): number[] =>
    sent
      .filter((s) => s.message.kind === 'request' && s.message.method === method)
      .map((s) => s.at);
  /** Instants at which responses with `status` were sent. */
  const responseTimes = (status: number): number[] =>
    sent
      .filter((s) => s.message.kind === 'response' && s.message.status === status)
      .map((s) => s.at);
  return { clock, sent, layer, requestTimes, responseTimes };
}

export interface RequestSpec {
  method?: string;
  /** null: no branch parameter at all (an RFC 2543 element). */
  branch?: string | null;
  sentBy?: string;
  uri?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  cseq?: number;
  routes?: string[];
}

/** A request as a UAC would send it, with one Via. */
export function request(spec: RequestSpec = {}): SipRequest {
  const method = spec.method ?? 'INVITE';
  const headers = new SipHeaders();
  const branch = spec.branch === null ? '' : `;branch=${spec.branch ?? 'z9hG4bKtest1'}`;
  headers.append('Via', `SIP/2.0/UDP ${spec.sentBy ?? '192.0.2.10:5060'}${branch};rport`);
  for (const route of spec.routes ?? []) headers.append('Route', route);
  headers.append('Max-Forwards', '70');
  headers.append('From', `"Alice" <sip:alice@example.com>;tag=${spec.fromTag ?? 'ftag'}`);
  const toTag = spec.toTag === undefined ? '' : `;tag=${spec.toTag}`;
  headers.append('To', `<sip:bob@example.com>${toTag}`);
  headers.append('Call-ID', spec.callId ?? 'call-1@example.com');
  headers.append('CSeq', `${spec.cseq ?? 1} ${method}`);
  return createRequest(method, spec.uri ?? 'sip:bob@example.com', headers);
}

/** The response a UAS would send to `req`. */
export function response(req: SipRequest, status: number, toTag = 'ttag'): SipResponse {
  return buildResponse(req, status, { toTag });
}

/** The ACK for a non-2xx as an RFC 3261 UAC builds it (same branch as the INVITE). */
export function ackFor(invite: SipRequest, res: SipResponse): SipRequest {
  const ack = createRequest('ACK', invite.uri, new SipHeaders());
  ack.headers.append('Via', invite.headers.get('Via') ?? '');
  ack.headers.append('Max-Forwards', '70');
  ack.headers.append('From', invite.headers.get('From') ?? '');
  ack.headers.append('To', res.headers.get('To') ?? '');
  ack.headers.append('Call-ID', invite.headers.get('Call-ID') ?? '');
  ack.headers.append('CSeq', `${invite.headers.get('CSeq')?.split(' ')[0] ?? '1'} ACK`);
  return ack;
}

/** Client handlers that record what the TU heard. */
export function recorder() {
  const responses: SipResponse[] = [];
  const events: string[] = [];
  const handlers: ClientTransactionHandlers = {
    onResponse: (res) => {
      responses.push(res);
      events.push(`response ${res.status}`);
    },
    onTimeout: () => events.push('timeout'),
    onTransportError: () => events.push('transportError'),
  };
  return { responses, events, handlers };
}

/** The server transaction of a `new` result; fails the test otherwise. */
export function created(result: ReceiveRequestResult): ServerTransaction {
  if (result.kind !== 'new') throw new Error(`expected a new transaction, got ${result.kind}`);
  return result.tx;
}
