/**
 * A callee registered from a browser and a desk phone at once (docs/architecture.md
 * §3.2.2), at the level of one Call with fake media and SIP: each fork's INVITE carries
 * the offer of its contact's kind, the fork that answers decides which leg stays
 * (CallMedia.settle) and which offer is our SDP toward side b from then on, the other
 * fork is cancelled, and a browser's early media is not relayed while its leg waits.
 */
import { describe, expect, it } from '@jest/globals';
import { dialogFromUasRequest } from '../../../../sip/dialog/index.js';
import type { SipRequest, SipResponse } from '../../../../sip/message/index.js';
import {
  parseSdp,
  relayOffer,
  type AnchorPolicy,
  type LegMedia,
  type WebRtcIdentity,
} from '../../../../sip/sdp/index.js';
import type { IncomingRequest } from '../../../../sip/stack.js';
import type { Endpoint } from '../../../../sip/transport/types.js';
import { Call } from '../../../../src/calls/call.js';
import type { CallMedia, Side } from '../../../../src/calls/callMedia.js';
import type { AnchorKind, ContactKind } from '../../../../src/calls/contactKind.js';
import type { CallRecord } from '../../../../src/calls/callRecord.js';
import type { SipOut } from '../../../../src/calls/sipOut.js';
import { createLogger } from '../../../../src/logging.js';
import { request, response } from '../../sip/dialog/helpers.js';
import { FakeClock } from '../../sip/transaction/fakeClock.js';

const FP =
  'A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90';
const OUR_FP =
  '11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00';
const PLAIN_B = 20002;
const CANDIDATE = 20004;
const IDENTITY: WebRtcIdentity = {
  ice: { ufrag: 'ourU', pwd: 'ourpasswordourpassword' },
  fingerprint: { algorithm: 'sha-256', value: OUR_FP },
  candidates: [{ address: '127.0.0.1', port: CANDIDATE }],
};

const lines = (...l: string[]): string => [...l, ''].join('\r\n');
const phoneSdp = (port: number): string =>
  lines(
    'v=0',
    'o=- 1 1 IN IP4 10.0.0.9',
    's=-',
    'c=IN IP4 10.0.0.9',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
  );
/** A browser's answer to our WebRTC offer (PCMU, DTLS active). */
const browserAnswer = lines(
  'v=0',
  'o=- 46117 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 0',
  'c=IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host',
  'a=ice-ufrag:ChRm',
  'a=ice-pwd:chromepasswordchromepassword',
  `a=fingerprint:sha-256 ${FP}`,
  'a=setup:active',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:0 PCMU/8000',
);

const desk: Endpoint = { protocol: 'udp', address: '10.0.0.2', port: 5060 };
const browser: Endpoint = { protocol: 'ws', address: '127.0.0.1', port: 50123 };

interface Sent {
  request: SipRequest;
  to: Endpoint;
  onResponse(r: SipResponse): void;
}

/** A media fake with a plain leg b and a WebRTC candidate, as CallMedia has them. */
function fakeMedia() {
  const state = { anchorB: 'plain' as AnchorKind, candidate: true, settled: [] as AnchorKind[] };
  const applied: Array<[Side, LegMedia]> = [];
  const media = {
    localPort: (side: Side) =>
      side === 'a' ? 20000 : state.anchorB === 'webrtc' ? CANDIDATE : PLAIN_B,
    webRtcIdentity: (side: Side) =>
      side === 'b' && state.anchorB === 'webrtc' ? IDENTITY : undefined,
    get anchorOfB() {
      return state.anchorB;
    },
    anchorFor: (kind: ContactKind): AnchorKind =>
      kind === 'browser' && state.candidate ? 'webrtc' : state.anchorB,
    offerSide: (anchor: AnchorKind) =>
      anchor === 'webrtc' && state.candidate
        ? { port: CANDIDATE, webrtc: IDENTITY }
        : { port: PLAIN_B },
    settle: (anchor: AnchorKind) => {
      state.settled.push(anchor);
      if (state.candidate && anchor === 'webrtc') state.anchorB = 'webrtc';
      state.candidate = false;
    },
    on: () => undefined,
    apply: (side: Side, leg: LegMedia) => {
      applied.push([side, leg]);
      return Promise.resolve();
    },
    connect: () => Promise.resolve(),
    close: () => Promise.resolve(),
  } as unknown as CallMedia;
  return { media, state, applied };
}

function rig() {
  const clock = new FakeClock();
  const toCaller: SipResponse[] = [];
  const sent: Sent[] = [];
  const invite = request(
    [
      'INVITE sip:1002@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1',
      'Max-Forwards: 70',
      'From: <sip:1003@127.0.0.1>;tag=caller-tag',
      'To: <sip:1002@127.0.0.1>',
      'Call-ID: call-a',
      'CSeq: 1 INVITE',
      'Contact: <sip:1003@10.0.0.1:5060>',
      'Content-Type: application/sdp',
    ],
    phoneSdp(4000),
  );
  const transaction = {
    state: 'proceeding',
    respond: (r: SipResponse) => toCaller.push(r),
  } as unknown as IncomingRequest['transaction'];
  const incoming = {
    request: invite,
    source: { protocol: 'udp', address: '10.0.0.1', port: 5060 },
    transaction,
    respond: (r: SipResponse) => toCaller.push(r),
  } as unknown as IncomingRequest;
  const policy: AnchorPolicy = { supported: ['PCMU'], telephoneEvent: true };
  const parsed = parseSdp(invite.body);
  if (!parsed.ok) throw new Error('bad test SDP');
  const relayed = relayOffer(parsed.session, { address: '127.0.0.1', port: PLAIN_B }, policy);
  const dialog = dialogFromUasRequest(invite, { localTag: 'our-tag', localContact: '<sip:x>' });
  if (!relayed.ok || !dialog.ok) throw new Error('bad test INVITE');
  const { media, state, applied } = fakeMedia();
  const out = {
    send: (req: SipRequest, to: Endpoint, handlers: { onResponse(r: SipResponse): void }) =>
      sent.push({ request: req, to, onResponse: handlers.onResponse }),
    sendDirect: () => undefined,
    sentBy: () => ({ host: '127.0.0.1', port: 5060 }),
    contact: () => 'sip:127.0.0.1:5060',
  } as unknown as SipOut;
  const record: CallRecord = {
    id: 'call-a',
    caller: '1003',
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
      timers: { t1: 500, t2: 4000, noAnswerMs: 60_000 },
      policy,
      mediaAddress: '127.0.0.1',
      userAgent: 'test',
      logger: createLogger('silent'),
    },
    {
      extensions: { a: '1003', b: '1002' },
      callers: {
        a: { kind: 'extension', extension: '1003' },
        b: { kind: 'extension', extension: '1002' },
      },
    },
  );
  const forkInvite = (branch: string, uri: string, kind: ContactKind) =>
    request(
      [
        `INVITE ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}`,
        'Max-Forwards: 69',
        'From: <sip:1003@127.0.0.1>;tag=srv-tag',
        'To: <sip:1002@127.0.0.1>',
        'Call-ID: call-b',
        'CSeq: 1 INVITE',
        'Contact: <sip:127.0.0.1:5060>',
        'Content-Type: application/sdp',
      ],
      call.offerToBFor(kind),
    );
  const deskInvite = forkInvite('z9hG4bKdesk', 'sip:1002-0x1@10.0.0.2:5060', 'phone');
  const browserInvite = forkInvite('z9hG4bKweb', 'sip:1002@x.invalid;transport=ws', 'browser');
  call.start([
    { invite: deskInvite, destination: desk, kind: 'phone' },
    { invite: browserInvite, destination: browser, kind: 'browser' },
  ]);
  /** What each fork was offered. */
  const toDesk = deskInvite.body.toString();
  const toBrowser = browserInvite.body.toString();
  /** A response of the fork sent to `to` (the first request sent there is its INVITE). */
  const reply = (to: Endpoint, status: number, tag: string, body = '') => {
    const branch = to === desk ? 'z9hG4bKdesk' : 'z9hG4bKweb';
    const fork = sent.find((s) => s.to === to && s.request.method === 'INVITE');
    fork?.onResponse(
      response(
        [
          `SIP/2.0 ${status} ${status === 200 ? 'OK' : status === 183 ? 'Session Progress' : 'Ringing'}`,
          `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}`,
          'From: <sip:1003@127.0.0.1>;tag=srv-tag',
          `To: <sip:1002@127.0.0.1>;tag=${tag}`,
          'Call-ID: call-b',
          'CSeq: 1 INVITE',
          `Contact: <sip:1002@${to.address}:${to.port}>`,
          ...(body ? ['Content-Type: application/sdp'] : []),
        ],
        body,
      ),
    );
  };
  const cancelsTo = (to: Endpoint) =>
    sent.filter((s) => s.to === to && s.request.method === 'CANCEL').length;
  return { call, toCaller, toDesk, toBrowser, reply, cancelsTo, state, applied };
}

describe('one call to a browser and a desk phone of the same extension', () => {
  it('offers the browser WebRTC on the candidate and the desk phone plain RTP on leg b', () => {
    const r = rig();
    expect(r.toBrowser).toMatch(new RegExp(`m=audio ${CANDIDATE} UDP/TLS/RTP/SAVPF `));
    expect(r.toBrowser).toContain(`a=fingerprint:sha-256 ${OUR_FP}`);
    expect(r.toDesk).toMatch(new RegExp(`m=audio ${PLAIN_B} RTP/AVP `));
    expect(r.toDesk).not.toMatch(/fingerprint|ice-ufrag/);
    // One session seen by both (same o= line), each in its own dialog.
    const origin = (body: string) => /o=(.*)\r\n/.exec(body)?.[1];
    expect(origin(r.toBrowser)).toBe(origin(r.toDesk));
  });

  it('the browser answers: its leg stays, the desk phone is cancelled, leg b gets the WebRTC answer', async () => {
    const r = rig();
    r.reply(desk, 180, 'desk-tag');
    r.reply(browser, 180, 'web-tag');
    r.reply(browser, 200, 'web-tag', browserAnswer);
    expect(r.state.settled).toEqual(['webrtc']);
    expect(r.cancelsTo(desk)).toBe(1);
    expect(r.cancelsTo(browser)).toBe(0);
    expect(r.toCaller.map((x) => x.status)).toEqual([180, 180, 200]);
    // Our SDP toward side b is what the browser was offered (for later re-INVITEs).
    expect(r.call.local.b.body).toBe(r.toBrowser);
    await Promise.resolve();
    const legB = r.applied.find(([side]) => side === 'b')?.[1];
    expect(legB?.webrtc?.dtlsRole).toBe('server');
  });

  it('the desk phone answers: the candidate closes, the browser is cancelled, leg b is plain', async () => {
    const r = rig();
    r.reply(browser, 180, 'web-tag');
    r.reply(desk, 180, 'desk-tag');
    r.reply(desk, 200, 'desk-tag', phoneSdp(6000));
    expect(r.state.settled).toEqual(['plain']);
    expect(r.cancelsTo(browser)).toBe(1);
    expect(r.cancelsTo(desk)).toBe(0);
    expect(r.call.local.b.body).toBe(r.toDesk);
    await Promise.resolve();
    const legB = r.applied.find(([side]) => side === 'b')?.[1];
    expect(legB?.webrtc).toBeUndefined();
    expect(legB?.remote).toMatchObject({ address: '10.0.0.9', port: 6000 });
  });

  it("a browser's 183 with SDP rings only while its leg waits; a desk phone's is early media", () => {
    const r = rig();
    r.reply(browser, 183, 'web-tag', browserAnswer);
    expect(r.toCaller.map((x) => [x.status, x.body.length > 0])).toEqual([[180, false]]);
    expect(r.applied).toHaveLength(0);
    r.reply(desk, 183, 'desk-tag', phoneSdp(6000));
    expect(r.toCaller.map((x) => [x.status, x.body.length > 0])).toEqual([
      [180, false],
      [183, true],
    ]);
  });
});
