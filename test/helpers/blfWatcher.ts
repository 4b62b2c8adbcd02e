/**
 * A BLF key in a test: a raw-SIP UDP subscriber to the dialog event package (RFC 4235
 * over RFC 6665). It SUBSCRIBEs (answering the digest challenge), keeps the dialog,
 * refreshes and un-subscribes in it, and answers each NOTIFY with `notifyStatus` (200
 * unless a test wants 481) or not at all (`'drop'`), keeping every one it received.
 *
 *   const w = await BlfWatcher.open(server.sipPort, '1005', 'pw1005');
 *   expect((await w.subscribe('1002', { expires: 120 })).status).toBe(200);
 *   const first = await w.nextNotify();
 */
import dgram from 'node:dgram';
import {
  digestAuthorization,
  parseDigestChallenge,
  parseSipText,
  randomToken,
  type SipMessageView,
} from './sipClient.js';

const HOST = '127.0.0.1';

export interface SubscribeOptions {
  expires?: number;
  /** The Event header value; null sends none. Default `dialog`. */
  event?: string | null;
  headers?: readonly string[];
  body?: string;
  /** Answer the 401 (default true). */
  authenticate?: boolean;
}

type Waiter = {
  match: (m: SipMessageView) => boolean;
  resolve: (m: SipMessageView) => void;
  cancel: () => void;
};

export class BlfWatcher {
  /** Every message received, in order. */
  readonly received: SipMessageView[] = [];
  /** How NOTIFYs are answered. */
  notifyStatus: number | 'drop' = 200;
  private readonly waiters = new Set<Waiter>();
  private callId = '';
  private fromTag = '';
  private toTag: string | undefined;
  private target = '';
  private cseq = 0;

  private constructor(
    private readonly sock: dgram.Socket,
    readonly localPort: number,
    private readonly serverPort: number,
    readonly user: string,
    private readonly password: string,
  ) {}

  static async open(serverPort: number, user: string, password: string): Promise<BlfWatcher> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, HOST, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    const w = new BlfWatcher(sock, sock.address().port, serverPort, user, password);
    sock.on('message', (msg) => w.deliver(msg.toString('utf8')));
    sock.on('error', () => {});
    return w;
  }

  /** NOTIFYs received (retransmissions included), oldest first. */
  get notifies(): SipMessageView[] {
    return this.received.filter((m) => m.method === 'NOTIFY');
  }

  /** The dialog's To tag (ours is the From tag), once a 2xx created it. */
  get dialogToTag(): string | undefined {
    return this.toTag;
  }

  /** A new subscription (a new dialog) to `target`; resolves with the final response. */
  async subscribe(target: string, opts: SubscribeOptions = {}): Promise<SipMessageView> {
    this.callId = `${randomToken()}@${HOST}`;
    this.fromTag = randomToken(4);
    this.toTag = undefined;
    this.target = target;
    this.cseq = 0;
    const first = await this.send(opts);
    if (first.status !== 401 || opts.authenticate === false) return this.adopt(first);
    const challenge = parseDigestChallenge(first.header('WWW-Authenticate') ?? '');
    const auth = digestAuthorization(
      challenge,
      { username: this.user, password: this.password },
      'SUBSCRIBE',
      this.uri(),
    );
    return this.adopt(await this.send(opts, [`Authorization: ${auth}`]));
  }

  /** A SUBSCRIBE in the dialog: a refresh, or with 0 an un-subscribe. */
  async refresh(expires: number): Promise<SipMessageView> {
    if (this.toTag === undefined) throw new Error('no subscription dialog');
    return this.send({ expires });
  }

  /** The next NOTIFY after the `after` first ones (default: after those seen so far). */
  nextNotify(after = this.notifyKeys().size, timeoutMs = 5000): Promise<SipMessageView> {
    return this.waitFor((m) => {
      if (m.method !== 'NOTIFY') return false;
      const keys = [...this.notifyKeys()];
      return keys.indexOf(key(m)) >= after;
    }, timeoutMs);
  }

  /** Distinct NOTIFYs (not retransmissions), by CSeq, in order of arrival. */
  notifyKeys(): Set<string> {
    return new Set(this.notifies.map(key));
  }

  /** Distinct NOTIFYs, first copy of each. */
  distinctNotifies(): SipMessageView[] {
    const seen = new Set<string>();
    return this.notifies.filter((m) => (seen.has(key(m)) ? false : (seen.add(key(m)), true)));
  }

  waitFor(match: (m: SipMessageView) => boolean, timeoutMs = 5000): Promise<SipMessageView> {
    const hit = this.received.find(match);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(m);
        },
        cancel: () => {
          clearTimeout(timer);
          this.waiters.delete(w);
          reject(new Error('BLF watcher closed'));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        const got = this.received.map((m) => m.raw.split('\r\n')[0]).join(' | ');
        reject(new Error(`no matching SIP message within ${timeoutMs} ms (received: ${got})`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  close(): Promise<void> {
    for (const w of [...this.waiters]) w.cancel();
    return new Promise((r) => this.sock.close(() => r()));
  }

  private uri(): string {
    return `sip:${this.target}@${HOST}:${this.serverPort}`;
  }

  private adopt(response: SipMessageView): SipMessageView {
    if ((response.status ?? 0) >= 200 && (response.status ?? 0) < 300) {
      this.toTag = /;\s*tag=([^;>\s]+)/i.exec(response.header('To') ?? '')?.[1];
    }
    return response;
  }

  private async send(
    opts: SubscribeOptions,
    extra: readonly string[] = [],
  ): Promise<SipMessageView> {
    this.cseq += 1;
    const branch = `z9hG4bK${randomToken()}`;
    const body = opts.body ?? '';
    const event = opts.event === undefined ? 'dialog' : opts.event;
    const lines = [
      `SUBSCRIBE ${this.uri()} SIP/2.0`,
      `Via: SIP/2.0/UDP ${HOST}:${this.localPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.user}@${HOST}>;tag=${this.fromTag}`,
      `To: <sip:${this.target}@${HOST}>${this.toTag !== undefined ? `;tag=${this.toTag}` : ''}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${this.cseq} SUBSCRIBE`,
      `Contact: <sip:${this.user}@${HOST}:${this.localPort}>`,
      ...(event === null ? [] : [`Event: ${event}`]),
      'Accept: application/dialog-info+xml',
      ...(opts.expires === undefined ? [] : [`Expires: ${opts.expires}`]),
      ...(opts.headers ?? []),
      ...extra,
      'User-Agent: callwatch-test-blf',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    this.sock.send(Buffer.from(lines.join('\r\n')), this.serverPort, HOST);
    const cseq = this.cseq;
    return this.waitFor(
      (m) =>
        m.isResponse &&
        (m.status ?? 0) >= 200 &&
        m.callId === this.callId &&
        m.cseqMethod === 'SUBSCRIBE' &&
        m.cseq === cseq,
    );
  }

  private deliver(text: string): void {
    const m = parseSipText(text);
    if (m.method === 'NOTIFY' && this.notifyStatus !== 'drop') {
      const status = this.notifyStatus;
      const copy = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].flatMap((n) =>
        m.headerAll(n).map((v) => `${n}: ${v}`),
      );
      const reason = status === 200 ? 'OK' : 'Call/Transaction Does Not Exist';
      const reply = [`SIP/2.0 ${status} ${reason}`, ...copy, 'Content-Length: 0', '', ''].join(
        '\r\n',
      );
      this.sock.send(Buffer.from(reply), this.serverPort, HOST);
    }
    this.received.push(m);
    for (const w of [...this.waiters]) if (w.match(m)) w.resolve(m);
  }
}

function key(m: SipMessageView): string {
  return `${m.callId} ${m.cseq}`;
}
