/**
 * A raw SIP-over-WebSocket client for tests (RFC 7118), shaped like a browser running
 * SIP.js: Via `SIP/2.0/WS <random>.invalid`, Contact `<sip:user@<random>.invalid;transport=ws>`,
 * one SIP message per text message. No transaction layer: what a test sends is exactly
 * what goes on the wire, and everything received is kept for waitFor().
 *
 *   const ws = await WsSipClient.connect(server.httpPort);
 *   const reg = await ws.register('1002', 'pw1002');
 *   await ws.close();
 */
import { WebSocket } from 'ws';
import {
  digestAuthorization,
  parseDigestChallenge,
  parseSipText,
  randomToken,
  type SipMessageView,
} from './sipClient.js';

export interface WsClose {
  readonly code: number;
  readonly reason: string;
}

export interface WsRequestSpec {
  readonly method: string;
  readonly uri: string;
  readonly fromUser: string;
  readonly toUser?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly fromTag?: string;
  readonly toTag?: string;
  readonly headers?: readonly string[];
  readonly body?: string;
}

/** A plain RTP/AVP PCMA answer or offer with media at 127.0.0.1:rtpPort. */
export function plainAudioSdp(rtpPort: number): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${rtpPort} RTP/AVP 8 101`,
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

type Waiter = { match: (m: SipMessageView) => boolean; resolve: (m: SipMessageView) => void };

export class WsSipClient {
  readonly received: SipMessageView[] = [];
  /** Text frames that were not SIP (e.g. a CRLF pong). */
  readonly otherFrames: string[] = [];
  /** The `.invalid` host of Via and Contact (RFC 7118 §5). */
  readonly host = `${randomToken(6)}.invalid`;
  readonly closed: Promise<WsClose>;
  private readonly waiters = new Set<Waiter>();

  private constructor(
    readonly socket: WebSocket,
    /** WS, or WSS over TLS (RFC 7118 §5: the Via transport). */
    readonly viaTransport: 'WS' | 'WSS' = 'WS',
  ) {
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on('message', (data: Buffer, isBinary) => {
      const text = data.toString('utf8');
      if (isBinary || !/^(SIP\/2\.0 |[A-Z]+ )/.test(text)) {
        this.otherFrames.push(text);
        return;
      }
      const message = parseSipText(text);
      this.received.push(message);
      for (const w of [...this.waiters]) if (w.match(message)) w.resolve(message);
    });
    socket.on('error', () => {});
  }

  /** Opens ws://127.0.0.1:port/sip offering `protocols` (default `sip`). */
  static connect(port: number, protocols: string[] = ['sip'], path = '/sip'): Promise<WsSipClient> {
    return WsSipClient.connectUrl(`ws://127.0.0.1:${port}${path}`, protocols);
  }

  /** Opens any URL (wss:// with `ca` to trust a test certificate). */
  static connectUrl(url: string, protocols: string[] = ['sip'], ca?: Buffer): Promise<WsSipClient> {
    const socket = new WebSocket(url, protocols, ca ? { ca } : {});
    return new Promise((resolve, reject) => {
      socket.once('open', () =>
        resolve(new WsSipClient(socket, url.startsWith('wss:') ? 'WSS' : 'WS')),
      );
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  /** The HTTP status an upgrade attempt is refused with (throws if it succeeds). */
  static async refusal(port: number, protocols: string[], path = '/sip'): Promise<number> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols);
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.terminate();
        reject(new Error('upgrade accepted'));
      });
      socket.once('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      socket.once('error', reject);
    });
  }

  get localPort(): number {
    return (this.socket as unknown as { _socket: { localPort: number } })._socket.localPort;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    this.socket.send(text, { binary: false });
  }

  sendBinary(data: Buffer): void {
    this.socket.send(data, { binary: true });
  }

  /** Builds a request the way SIP.js does (Via WS .invalid, rport, Contact transport=ws). */
  build(spec: WsRequestSpec): { text: string; callId: string; branch: string; fromTag: string } {
    const callId = spec.callId ?? randomToken(10);
    const branch = `z9hG4bK${randomToken()}`;
    const fromTag = spec.fromTag ?? randomToken(4);
    const body = spec.body ?? '';
    const domain = '127.0.0.1';
    const lines = [
      `${spec.method} ${spec.uri} SIP/2.0`,
      `Via: SIP/2.0/${this.viaTransport} ${this.host};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${spec.fromUser}@${domain}>;tag=${fromTag}`,
      `To: <sip:${spec.toUser ?? spec.fromUser}@${domain}>${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${spec.cseq ?? 1} ${spec.method}`,
      'User-Agent: callwatch-ws-test',
      ...(spec.headers ?? []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return { text: lines.join('\r\n'), callId, branch, fromTag };
  }

  /** Sends a request and resolves with its final response. */
  async request(spec: WsRequestSpec, timeoutMs = 5000): Promise<SipMessageView> {
    const req = this.build(spec);
    this.send(req.text);
    return this.waitFor(
      (m) =>
        m.isResponse &&
        (m.status ?? 0) >= 200 &&
        m.callId === req.callId &&
        m.cseqMethod === spec.method &&
        m.cseq === (spec.cseq ?? 1),
      timeoutMs,
    );
  }

  /** This client's Contact for `user`. */
  contact(user: string): string {
    return `<sip:${user}@${this.host};transport=ws>`;
  }

  /** REGISTER → 401 → REGISTER with digest → final response (one Call-ID, CSeq 1 and 2). */
  async register(
    user: string,
    password: string,
    expires = 600,
  ): Promise<{ challenge: SipMessageView; final: SipMessageView }> {
    const base = {
      method: 'REGISTER',
      uri: 'sip:127.0.0.1',
      fromUser: user,
      callId: randomToken(10),
      fromTag: randomToken(4),
    };
    const headers = [`Contact: ${this.contact(user)};expires=${expires}`];
    const challenge = await this.request({ ...base, cseq: 1, headers });
    if (challenge.status !== 401) throw new Error(`expected 401, got:\n${challenge.raw}`);
    const params = parseDigestChallenge(challenge.header('WWW-Authenticate') ?? '');
    const auth = digestAuthorization(params, { username: user, password }, 'REGISTER', base.uri);
    const final = await this.request({
      ...base,
      cseq: 2,
      headers: [...headers, `Authorization: ${auth}`],
    });
    return { challenge, final };
  }

  /** Resolves with the first message (received already or later) that matches. */
  waitFor(match: (m: SipMessageView) => boolean, timeoutMs = 5000): Promise<SipMessageView> {
    const hit = this.received.find(match);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        const got = this.received.map((m) => m.raw.split('\r\n')[0]).join(' | ');
        reject(new Error(`no matching SIP message within ${timeoutMs} ms (got: ${got || '-'})`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Answers a request with `status` (To tag added for non-100), copying the headers RFC 3261 §8.2.6 asks. */
  respond(
    request: SipMessageView,
    status: number,
    reason: string,
    opts: { toTag?: string; body?: string; contactUser?: string } = {},
  ): void {
    const body = opts.body ?? '';
    const to = request.header('To') ?? '';
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...request.headerAll('Via').map((v) => `Via: ${v}`),
      `From: ${request.header('From') ?? ''}`,
      `To: ${opts.toTag && !/;\s*tag=/i.test(to) ? `${to};tag=${opts.toTag}` : to}`,
      `Call-ID: ${request.callId ?? ''}`,
      `CSeq: ${request.header('CSeq') ?? ''}`,
      ...(opts.contactUser ? [`Contact: ${this.contact(opts.contactUser)}`] : []),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    this.send(lines.join('\r\n'));
  }

  /** The ACK for a final response to our INVITE (a new transaction for a 2xx, §13.2.2.4). */
  ack(response: SipMessageView, uri: string, cseq: number): string {
    const branch = response.status === 200 ? `z9hG4bK${randomToken()}` : (response.branch ?? '');
    return [
      `ACK ${uri} SIP/2.0`,
      `Via: SIP/2.0/${this.viaTransport} ${this.host};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: ${response.header('From')}`,
      `To: ${response.header('To')}`,
      `Call-ID: ${response.callId}`,
      `CSeq: ${cseq} ACK`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  /** Answers an INVITE (180, then 200 with `sdp`), waits for the ACK; returns our To tag. */
  async answerCall(invite: SipMessageView, user: string, sdp: string): Promise<string> {
    const tag = randomToken(4);
    this.respond(invite, 180, 'Ringing', { toTag: tag, contactUser: user });
    this.respond(invite, 200, 'OK', { toTag: tag, contactUser: user, body: sdp });
    await this.waitFor((m) => m.method === 'ACK' && m.callId === invite.callId);
    return tag;
  }

  /** Sends the BYE of the callee of `invite` (UAS side, RFC 3261 §12.2.1.1); returns it. */
  byeAsCallee(invite: SipMessageView, tag: string): string {
    const target = /<([^>]+)>/.exec(invite.header('Contact') ?? '')?.[1] ?? '';
    const text = [
      `BYE ${target} SIP/2.0`,
      `Via: SIP/2.0/${this.viaTransport} ${this.host};branch=z9hG4bK${randomToken()};rport`,
      'Max-Forwards: 70',
      `From: ${invite.header('To')};tag=${tag}`,
      `To: ${invite.header('From')}`,
      `Call-ID: ${invite.callId}`,
      'CSeq: 1 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    this.send(text);
    return text;
  }

  /** Closes (1000) and waits for the close to complete. */
  async close(): Promise<WsClose> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000, 'bye');
    else if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    const timeout = setTimeout(() => this.socket.terminate(), 2000);
    const closed = await this.closed;
    clearTimeout(timeout);
    return closed;
  }
}
