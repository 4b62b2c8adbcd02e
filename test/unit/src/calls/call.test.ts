import { describe, expect, it } from '@jest/globals';
import { dialogFromUasRequest } from '../../../../sip/dialog/index.js';
import type { SipRequest, SipResponse } from '../../../../sip/message/index.js';
import { parseSdp, relayOffer, type AnchorPolicy } from '../../../../sip/sdp/index.js';
import type { IncomingRequest } from '../../../../sip/stack.js';
import type { Endpoint } from '../../../../sip/transport/types.js';
import { Call } from '../../../../src/calls/call.js';
import type { CallMedia } from '../../../../src/calls/callMedia.js';
import type { CallRecord } from '../../../../src/calls/callRecord.js';
import type { SipOut } from '../../../../src/calls/sipOut.js';
import { createLogger } from '../../../../src/logging.js';
import { request, response } from '../../sip/dialog/helpers.js';
import { FakeClock } from '../../sip/transaction/fakeClock.js';

const T1 = 500;

/** Lets promise callbacks (a held BYE waits on one) run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const sdp = (port: number, version = 1): string =>
  [
    'v=0',
    `o=- 1 ${version} IN IP4 10.0.0.9`,
    's=-',
    'c=IN IP4 10.0.0.9',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');

const alice: Endpoint = { protocol: 'udp', address: '10.0.0.1', port: 5060 };
const bob: Endpoint = { protocol: 'udp', address: '10.0.0.2', port: 5060 };

interface Sent {
  request: SipRequest;
  onResponse(r: SipResponse): void;
}

/** A Call wired to fakes: the caller's transaction, SipOut and media record what goes out. */
function rig() {
  const clock = new FakeClock();
  const toAlice: SipResponse[] = [];
  const sent: Sent[] = [];
  const invite = request(
    [
      'INVITE sip:1002@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1',
      'Max-Forwards: 70',
      'From: <sip:1001@127.0.0.1>;tag=alice-tag',
      'To: <sip:1002@127.0.0.1>',
      'Call-ID: call-a',
      'CSeq: 314 INVITE',
      'Contact: <sip:1001@10.0.0.1:5060>',
      'Content-Type: application/sdp',
    ],
    sdp(4000),
  );
  const transaction = {
    state: 'proceeding',
    respond: (r: SipResponse) => toAlice.push(r),
  } as unknown as IncomingRequest['transaction'];
  const incoming = {
    request: invite,
    source: { ...alice },
    transaction,
    respond: (r: SipResponse) => toAlice.push(r),
  } as unknown as IncomingRequest;
  const policy: AnchorPolicy = { supported: ['PCMU'], telephoneEvent: true };
  const parsed = parseSdp(invite.body);
  if (!parsed.ok) throw new Error('bad test SDP');
  const relayed = relayOffer(parsed.session, { address: '127.0.0.1', port: 20002 }, policy);
  const dialog = dialogFromUasRequest(invite, {
    localTag: 'our-tag',
    localContact: '<sip:127.0.0.1:5060>',
  });
  if (!relayed.ok || !dialog.ok) throw new Error('bad test INVITE');
  const media = {
    localPort: (side: 'a' | 'b') => (side === 'a' ? 20000 : 20002),
    webRtcIdentity: () => undefined,
    anchorOfB: 'plain',
    anchorFor: () => 'plain',
    settle: () => undefined,
    on: () => undefined,
    apply: () => Promise.resolve(),
    connect: () => undefined,
    close: () => Promise.resolve(),
  } as unknown as CallMedia;
  const out = {
    send: (req: SipRequest, _to: Endpoint, handlers: { onResponse(r: SipResponse): void }) =>
      sent.push({ request: req, onResponse: handlers.onResponse }),
    sendDirect: () => undefined,
    sentBy: () => ({ host: '127.0.0.1', port: 5060 }),
    contact: () => 'sip:127.0.0.1:5060',
  } as unknown as SipOut;
  const record: CallRecord = {
    id: 'call-a',
    caller: '1001',
    callee: '1002',
    direction: 'internal',
    state: 'proceeding',
    startedAt: 0,
  };
  const call = new Call(
    record,
    incoming,
    dialog.dialog,
    relayed,
    media,
    {
      out,
      clock,
      timers: { t1: T1, t2: 4000, noAnswerMs: 60_000 },
      policy,
      mediaAddress: '127.0.0.1',
      userAgent: 'test',
      logger: createLogger('silent'),
    },
    {
      extensions: { a: '1001', b: '1002' },
      callers: {
        a: { kind: 'extension', extension: '1001' },
        b: { kind: 'extension', extension: '1002' },
      },
    },
  );
  const dropped: string[] = [];
  call.on('dialogDropped', (key) => dropped.push(key));
  const toBob = request(
    [
      'INVITE sip:1002@10.0.0.2:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKs1',
      'Max-Forwards: 69',
      'From: <sip:1001@127.0.0.1>;tag=srv-tag',
      'To: <sip:1002@127.0.0.1>',
      'Call-ID: call-b',
      'CSeq: 1 INVITE',
      'Contact: <sip:127.0.0.1:5060>',
      'Content-Type: application/sdp',
    ],
    call.offerToBFor('phone'),
  );
  call.start([{ invite: toBob, destination: bob, kind: 'phone' }]);
  const bobAnswers = (): void => {
    const ok = response(
      [
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKs1',
        'From: <sip:1001@127.0.0.1>;tag=srv-tag',
        'To: <sip:1002@127.0.0.1>;tag=bob-tag',
        'Call-ID: call-b',
        'CSeq: 1 INVITE',
        'Contact: <sip:1002@10.0.0.2:5060>',
        'Content-Type: application/sdp',
      ],
      sdp(6000),
    );
    sent[0]?.onResponse(ok);
  };
  const ackFromAlice = request([
    'ACK sip:127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa2',
    'Max-Forwards: 70',
    'From: <sip:1001@127.0.0.1>;tag=alice-tag',
    'To: <sip:1002@127.0.0.1>;tag=our-tag',
    'Call-ID: call-a',
    'CSeq: 314 ACK',
  ]);
  const byes = (callId: string) =>
    sent.filter((s) => s.request.method === 'BYE' && s.request.headers.get('Call-ID') === callId);
  return { call, clock, toAlice, sent, dropped, bobAnswers, ackFromAlice, byes };
}

describe('Call on the fake clock', () => {
  it('answers the caller, retransmits its 200 until the ACK, then stops', () => {
    const r = rig();
    r.bobAnswers();
    expect(r.call.state).toBe('answered');
    expect(r.toAlice.map((x) => x.status)).toEqual([200]);
    r.clock.advance(T1);
    expect(r.toAlice.map((x) => x.status)).toEqual([200, 200]);
    r.call.onAck('a', r.ackFromAlice);
    r.clock.advance(64 * T1);
    expect(r.toAlice).toHaveLength(2);
    expect(r.call.state).toBe('answered');
  });

  it('holds the BYE to the caller until the ACK of its 200 (RFC 3261 §15)', async () => {
    const r = rig();
    r.bobAnswers();
    r.call.byeFrom('b');
    expect(r.call.state).toBe('ended');
    expect(r.byes('call-b')).toHaveLength(0); // Bob hung up: no BYE back
    expect(r.dropped).toHaveLength(1); // Bob's dialog; the caller's still routes the ACK
    r.clock.advance(10 * T1);
    await settled();
    expect(r.byes('call-a')).toHaveLength(0);
    r.call.onAck('a', r.ackFromAlice);
    await settled();
    expect(r.byes('call-a')).toHaveLength(1);
    expect(r.dropped).toHaveLength(2);
  });

  it('sends the held BYE after 64·T1 when no ACK comes', async () => {
    const r = rig();
    r.bobAnswers();
    r.call.byeFrom('b');
    r.clock.advance(64 * T1 - 1);
    await settled();
    expect(r.byes('call-a')).toHaveLength(0);
    r.clock.advance(1);
    await settled();
    expect(r.byes('call-a')).toHaveLength(1);
  });

  it('a CANCEL before the answer: 487 to the caller, and the call ends', () => {
    const r = rig();
    r.call.cancelledByCaller();
    expect(r.toAlice.map((x) => x.status)).toEqual([487]);
    expect(r.call.record.endReason).toBe('cancelled');
  });

  it('the caller hangs up an answered call: a BYE to the callee only', () => {
    const r = rig();
    r.bobAnswers();
    r.call.onAck('a', r.ackFromAlice);
    r.call.byeFrom('a');
    expect(r.byes('call-b')).toHaveLength(1);
    expect(r.byes('call-a')).toHaveLength(0);
    expect(r.call.record.endReason).toBe('caller-hangup');
  });

  it("a takeover's release: the released side is no longer a party, and 'parties' says so once", () => {
    const r = rig();
    r.bobAnswers();
    r.call.onAck('a', r.ackFromAlice);
    let changes = 0;
    r.call.on('parties', () => changes++);
    expect(r.call.parties).toEqual(['1001', '1002']);
    r.call.release('b');
    expect(r.call.parties).toEqual(['1001']);
    expect(changes).toBe(1);
    // A second release is refused by the call: nothing changes.
    r.call.release('a');
    expect(r.call.parties).toEqual(['1001']);
    expect(changes).toBe(1);
  });
});
