/**
 * Messages of one call, as the B2BUA sees them: Alice (10.0.0.1) calls through two
 * proxies (p1, p2, both Record-Routing) and the server is the UAS; or the server calls
 * Bob (10.0.0.2) through the same proxies and is the UAC.
 */
import {
  parseMessage,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../../../sip/message/index.js';

export function parse(lines: string[], body = ''): SipMessage {
  const text = `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const result = parseMessage(Buffer.from(text));
  if (!result.ok) throw new Error(`test message does not parse: ${result.error.message}`);
  return result.message;
}

export function request(lines: string[], body = ''): SipRequest {
  const m = parse(lines, body);
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

export function response(lines: string[], body = ''): SipResponse {
  const m = parse(lines, body);
  if (m.kind !== 'response') throw new Error('not a response');
  return m;
}

/** Alice's INVITE as it reaches the server (server = UAS), with `extra` headers. */
export function inviteFromAlice(...extra: string[]): SipRequest {
  return request([
    'INVITE sip:1002@callwatch.example SIP/2.0',
    'Via: SIP/2.0/UDP p2.example;branch=z9hG4bKp2',
    'Via: SIP/2.0/UDP p1.example;branch=z9hG4bKp1',
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1',
    'Record-Route: <sip:p2.example;lr>',
    'Record-Route: <sip:p1.example;lr>',
    'Max-Forwards: 68',
    'From: "Alice" <sip:1001@callwatch.example>;tag=alice-tag',
    'To: <sip:1002@callwatch.example>',
    'Call-ID: call-a@10.0.0.1',
    'CSeq: 314 INVITE',
    'Contact: <sip:1001@10.0.0.1:5060>',
    ...extra,
  ]);
}

/** The server's INVITE to Bob (server = UAC). */
export function inviteToBob(...extra: string[]): SipRequest {
  return request([
    'INVITE sip:1002@10.0.0.2:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKs1;rport',
    'Max-Forwards: 70',
    'From: <sip:1001@callwatch.example>;tag=srv-tag',
    'To: <sip:1002@callwatch.example>',
    'Call-ID: call-b@203.0.113.5',
    'CSeq: 1 INVITE',
    'Contact: <sip:callwatch@203.0.113.5:5060>',
    ...extra,
  ]);
}

/** A response from Bob to the server's INVITE, Record-Routed by p1 then p2. */
export function responseFromBob(status: string, toTag: string | undefined, ...extra: string[]) {
  return response([
    `SIP/2.0 ${status}`,
    'Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKs1;rport',
    'Record-Route: <sip:p2.example;lr>',
    'Record-Route: <sip:p1.example;lr>',
    'From: <sip:1001@callwatch.example>;tag=srv-tag',
    `To: <sip:1002@callwatch.example>${toTag === undefined ? '' : `;tag=${toTag}`}`,
    'Call-ID: call-b@203.0.113.5',
    'CSeq: 1 INVITE',
    ...extra,
  ]);
}

/** A request the peer sends inside the server's UAS dialog with Alice. */
export function fromAlice(method: string, cseq: number, ...extra: string[]): SipRequest {
  return request([
    `${method} sip:callwatch@203.0.113.5:5060 SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa9',
    'Max-Forwards: 70',
    'From: "Alice" <sip:1001@callwatch.example>;tag=alice-tag',
    'To: <sip:1002@callwatch.example>;tag=srv-a',
    'Call-ID: call-a@10.0.0.1',
    `CSeq: ${cseq} ${method}`,
    ...extra,
  ]);
}

export const SERVER_CONTACT = '<sip:callwatch@203.0.113.5:5060>';

/** The header lines of a message, `Name: value`, in order. */
export function headerLines(message: SipMessage): string[] {
  return message.headers.entries().map((f) => `${f.name}: ${f.value}`);
}
