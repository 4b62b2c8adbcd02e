/**
 * A call through the real server driven by raw SIP over UDP on both sides, with raw RTP
 * sockets as the phones' media (FakePhone): the caller is the trunk (its source port is
 * the trunk's, no digest), the callee is extension 1002 registered from its own socket.
 * Every message is what the test writes, so the tests can leave a 2xx un-ACKed, send an
 * offerless re-INVITE or an UPDATE, or put the answer in the ACK.
 *
 *   const rig = await startRig();
 *   const call = await rig.placeCall({ offer: sdp(rig.phoneA.port), answer: sdp(phoneB.port) });
 *   rig.trunk.send(call.a.request('BYE').text, rig.server.sipPort);
 */
import { FakePhone } from './media/fakePhone.js';
import { allocatePort, allocateRtpRange } from '../helpers/ports.js';
import {
  PEER_AUTH,
  mergeConfig,
  startServer,
  type ConfigObject,
  type ExtensionSpec,
  type LogEntry,
  type ServerHandle,
  type StartServerOptions,
} from '../helpers/server.js';
import {
  SipClient,
  randomToken,
  registerWithAuth,
  type SipMessageView,
} from '../helpers/sipClient.js';

export const DID = '5550102';

/** An SDP body from 127.0.0.1 (version `version`), audio at `port` with these formats. */
export function sdp(
  port: number,
  opts: { version?: number; codecs?: Array<'PCMU' | 'PCMA'>; direction?: string } = {},
): string {
  const pts = (opts.codecs ?? ['PCMU']).map((c) => (c === 'PCMU' ? 0 : 8));
  return [
    'v=0',
    `o=- 4242 ${opts.version ?? 1} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${[...pts, 101].join(' ')}`,
    ...pts.map((pt) => `a=rtpmap:${pt} ${pt === 0 ? 'PCMU' : 'PCMA'}/8000`),
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    `a=${opts.direction ?? 'sendrecv'}`,
    '',
  ].join('\r\n');
}

/** The audio port of an SDP body (the server's port for that leg). */
export function audioPort(body: string): number {
  const m = /^m=audio (\d+) /m.exec(body);
  if (!m) throw new Error(`no m=audio line in:\n${body}`);
  return Number(m[1]);
}

/** The payload types of the m=audio line, in order. */
export function audioFormats(body: string): number[] {
  const m = /^m=audio \d+ RTP\/AVP ([\d ]+)/m.exec(body);
  if (!m) throw new Error(`no m=audio line in:\n${body}`);
  return (m[1] as string).trim().split(/\s+/).map(Number);
}

/** One side of a dialog as the raw client sees it. */
export class RawDialog {
  private cseq: number;

  constructor(
    readonly client: SipClient,
    readonly serverPort: number,
    readonly callId: string,
    /** Our From (with tag) and the peer's To (with tag), as header values. */
    readonly local: string,
    readonly remote: string,
    /** The server's Contact URI (the Request-URI of our requests). */
    readonly target: string,
    firstCSeq: number,
  ) {
    this.cseq = firstCSeq;
  }

  /** The next in-dialog request (CSeq + 1, unless `cseq` is given, e.g. for an ACK). */
  request(
    method: string,
    opts: { body?: string; cseq?: number; branch?: string; contentType?: string } = {},
  ): { text: string; cseq: number } {
    const cseq = opts.cseq ?? ++this.cseq;
    const body = opts.body ?? '';
    const lines = [
      `${method} ${this.target} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.client.localPort};branch=${opts.branch ?? `z9hG4bK${randomToken()}`};rport`,
      'Max-Forwards: 70',
      `From: ${this.local}`,
      `To: ${this.remote}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:raw@127.0.0.1:${this.client.localPort}>`,
      ...(body === '' ? [] : [`Content-Type: ${opts.contentType ?? 'application/sdp'}`]),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return { text: lines.join('\r\n'), cseq };
  }

  /** Sends a request; returns its CSeq. */
  send(
    method: string,
    opts: { body?: string; cseq?: number; branch?: string; contentType?: string } = {},
  ): number {
    const r = this.request(method, opts);
    this.client.send(r.text, this.serverPort);
    return r.cseq;
  }

  /** Sends a request and waits for its final response. */
  async transact(method: string, body?: string, timeoutMs = 5000): Promise<SipMessageView> {
    const cseq = this.send(method, body === undefined ? {} : { body });
    return this.client.waitForResponse(this.callId, method, timeoutMs, cseq);
  }

  /** A request from the server in this dialog, not seen before (`after` = index). */
  async nextRequest(method: string, after = 0, timeoutMs = 5000): Promise<SipMessageView> {
    const seen = new Set(this.client.received.slice(0, after).map((r) => r.message));
    const r = await this.client.waitFor(
      (m) => !m.isResponse && m.method === method && m.callId === this.callId && !seen.has(m),
      timeoutMs,
    );
    return r.message;
  }
}

/** Our response to a request the server sent (Via, From, To, Call-ID, CSeq copied). */
export function responseTo(
  request: SipMessageView,
  status: number,
  opts: { toTag?: string; body?: string; contactPort?: number } = {},
): string {
  const reason = status === 200 ? 'OK' : status === 491 ? 'Request Pending' : 'Whatever';
  const to = request.header('To') ?? '';
  const body = opts.body ?? '';
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...request.headerAll('Via').map((v) => `Via: ${v}`),
    `From: ${request.header('From') ?? ''}`,
    `To: ${/;\s*tag=/i.test(to) || opts.toTag === undefined ? to : `${to};tag=${opts.toTag}`}`,
    `Call-ID: ${request.callId ?? ''}`,
    `CSeq: ${request.header('CSeq') ?? ''}`,
    ...(opts.contactPort === undefined
      ? []
      : [`Contact: <sip:1002@127.0.0.1:${opts.contactPort}>`]),
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

function contactUri(m: SipMessageView): string {
  const c = m.header('Contact') ?? '';
  const uri = /<([^>]+)>/.exec(c)?.[1] ?? c.split(';')[0];
  if (!uri) throw new Error(`no Contact in:\n${m.raw}`);
  return uri;
}

export interface PlaceCallOptions {
  /** The caller's offer; undefined = a late offer (INVITE without SDP). */
  offer?: string;
  /** The callee's answer to the server's INVITE (its SDP given). */
  answer: (serverOffer: string) => string | Promise<string>;
  /** The ACK's body (the answer, for a late offer). */
  ackBody?: string;
  /** false: the caller does not ACK the 200 (the test sends it, `call.a.send('ACK', { cseq: 1 })`). */
  ack?: boolean;
}

export interface RawCall {
  /** The caller's dialog (trunk ↔ server) and the callee's (1002 ↔ server). */
  a: RawDialog;
  b: RawDialog;
  /** The server's SDP in its 200 to the caller, and in its INVITE to the callee. */
  sdpToA: string;
  sdpToB: string;
  /** The 200 the caller got, and the INVITE the callee got. */
  ok: SipMessageView;
  invite: SipMessageView;
}

export interface Rig {
  server: ServerHandle;
  /** The caller: the trunk's own source port. */
  trunk: SipClient;
  /** The callee: registered as 1002. */
  callee: SipClient;
  placeCall(opts: PlaceCallOptions): Promise<RawCall>;
  /** OPTIONS outside any dialog from the trunk: the server's status. */
  options(): Promise<number>;
  /** Waits until GET /v1/calls lists no call (or throws after 5 s). */
  noLiveCalls(): Promise<void>;
  /** A raw RTP phone (FakePhone), closed with the rig. */
  phone(): Promise<FakePhone>;
  /** The next request of `method` the callee gets in the call's dialog with it. */
  calleeGets(call: RawCall, method: string, timeoutMs?: number): Promise<SipMessageView>;
  /** The caller hangs up; the callee answers the server's BYE; no call is left. */
  hangUp(call: RawCall): Promise<void>;
  close(): Promise<void>;
}

/** The server's "call started" log lines so far, oldest first. */
export function callStarts(server: ServerHandle): LogEntry[] {
  return server.logs().filter((e) => e.msg === 'call started');
}

/**
 * The "call ended" line of the call whose "call started" line follows the first
 * `startsBefore` ones (the server's own call id ties the two). Both are waited for: a line
 * reaches the test through the server's stdout, after the SIP messages of the same step,
 * and the previous call's end may come through later than this call's start.
 */
export async function callEndAfter(server: ServerHandle, startsBefore: number): Promise<LogEntry> {
  await server.waitForLog(() => callStarts(server).length > startsBefore, 10000);
  const callId = callStarts(server)[startsBefore]!['callId'];
  return server.waitForLog((e) => e.msg === 'call ended' && e['callId'] === callId, 10000);
}

/** The rig's default extensions: the callee 1002 (the trunk DID's target). */
export const RIG_EXTENSIONS: readonly ExtensionSpec[] = [{ number: '1002', password: 'pw1002' }];

/**
 * `extensions` replaces RIG_EXTENSIONS (it must keep 1002, the DID's target and the
 * registered callee), e.g. to add supervisors.
 */
export async function startRig(
  overrides: ConfigObject = {},
  extensions: readonly ExtensionSpec[] = RIG_EXTENSIONS,
  serverOptions: Omit<StartServerOptions, 'extensions'> = {},
  /** URI parameters of the callee's Contact, e.g. `;transport=ws` (a browser, RFC 7118). */
  calleeContactParams = '',
  /** More DIDs of the trunk (a queue's, say) beside DID → 1002. */
  dids: Readonly<Record<string, string>> = {},
): Promise<Rig> {
  const trunkPort = await allocatePort();
  const server = await startServer(
    mergeConfig(
      {
        ...PEER_AUTH,
        media: { workers: 1, portRange: await allocateRtpRange() },
        calls: { noAnswerTimeoutSec: 10 },
        trunks: [
          {
            name: 'carrier',
            host: '127.0.0.1',
            port: trunkPort,
            sourcePort: trunkPort,
            dids: { [DID]: '1002', ...dids },
          },
        ],
      },
      overrides,
    ),
    { ...serverOptions, extensions },
  );
  const opened: { close(): Promise<void> }[] = [];
  let trunk: SipClient;
  let callee: SipClient;
  try {
    trunk = await SipClient.udp(trunkPort);
    opened.push(trunk);
    callee = await SipClient.udp();
    opened.push(callee);
    const reg = await registerWithAuth(callee, {
      user: '1002',
      password: 'pw1002',
      port: server.sipPort,
      contacts: [`<sip:1002@127.0.0.1:${callee.localPort}${calleeContactParams}>`],
      expires: 600,
      algorithm: 'MD5',
    });
    if (reg.final?.status !== 200)
      throw new Error(`REGISTER failed:\n${reg.final?.raw ?? reg.challenge.raw}`);
  } catch (error) {
    // A rig that fails half-way closes what it opened: a server left running keeps jest
    // from exiting and holds its ports for the next test.
    await Promise.all(opened.map((o) => o.close()));
    await server.stop();
    throw error;
  }
  const port = server.sipPort;

  async function placeCall(opts: PlaceCallOptions): Promise<RawCall> {
    const callId = `${randomToken()}@127.0.0.1`;
    const fromTag = randomToken(4);
    const offer = opts.offer ?? '';
    const lines = [
      `INVITE sip:${DID}@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${trunkPort};branch=z9hG4bK${randomToken()};rport`,
      'Max-Forwards: 70',
      `From: <sip:customer@127.0.0.1>;tag=${fromTag}`,
      `To: <sip:${DID}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:customer@127.0.0.1:${trunkPort}>`,
      ...(offer === '' ? [] : ['Content-Type: application/sdp']),
      `Content-Length: ${Buffer.byteLength(offer)}`,
      '',
      offer,
    ];
    const seen = callee.received.length;
    trunk.send(lines.join('\r\n'), port);
    const invite = await callee.nextNewRequest('INVITE', seen);
    const tagB = randomToken(4);
    const answer = await opts.answer(invite.body);
    callee.send(
      responseTo(invite, 200, { toTag: tagB, body: answer, contactPort: callee.localPort }),
      port,
    );
    const inviteB = invite.callId as string;
    await callee.waitForAck(invite, tagB);
    const ok = await trunk.waitForResponse(callId, 'INVITE', 5000, 1);
    if (ok.status !== 200) throw new Error(`call not answered:\n${ok.raw}`);
    const a = new RawDialog(
      trunk,
      port,
      callId,
      `<sip:customer@127.0.0.1>;tag=${fromTag}`,
      ok.header('To') as string,
      contactUri(ok),
      1,
    );
    if (opts.ack !== false) {
      trunk.send(
        a.request('ACK', {
          cseq: 1,
          ...(opts.ackBody !== undefined ? { body: opts.ackBody } : {}),
        }).text,
        port,
      );
    }
    const b = new RawDialog(
      callee,
      port,
      inviteB,
      `${invite.header('To') as string};tag=${tagB}`,
      invite.header('From') as string,
      contactUri(invite),
      0,
    );
    return { a, b, sdpToA: ok.body, sdpToB: invite.body, ok, invite };
  }

  const phones: FakePhone[] = [];
  const calleeGets = async (call: RawCall, method: string, timeoutMs = 5000) => {
    const seen = new Set(callee.received.map((r) => r.message));
    const r = await callee.waitFor(
      (m) => !m.isResponse && m.method === method && m.callId === call.b.callId && !seen.has(m),
      timeoutMs,
    );
    return r.message;
  };
  const noLiveCalls = async () => {
    const end = Date.now() + 5000;
    let calls: unknown[] = [];
    while (Date.now() < end) {
      calls = ((await server.httpGet('/v1/calls')).json as { calls: unknown[] }).calls;
      if (calls.length === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`calls left: ${JSON.stringify(calls)}`);
  };

  return {
    server,
    trunk,
    callee,
    placeCall,
    noLiveCalls,
    calleeGets,
    async phone() {
      const p = await FakePhone.open();
      phones.push(p);
      return p;
    },
    async hangUp(call) {
      const bye = calleeGets(call, 'BYE');
      const status = (await call.a.transact('BYE')).status;
      if (status !== 200) throw new Error(`the caller's BYE got ${status}`);
      callee.send(responseTo(await bye, 200), port);
      await noLiveCalls();
    },
    async options() {
      const { response } = await trunk.request(
        { method: 'OPTIONS', target: `127.0.0.1:${port}`, fromUser: 'customer' },
        port,
      );
      return response.status ?? 0;
    },
    async close() {
      await Promise.all([trunk.close(), callee.close(), ...phones.map((p) => p.close())]);
      await server.stop();
    },
  };
}
