/**
 * A raw SIP client for tests: sends SIP text (or arbitrary bytes, for torture cases)
 * over UDP or TCP and collects whatever comes back, with timeouts. It does not retransmit
 * and has no transaction layer: what you send is exactly what goes on the wire.
 *
 *   const c = await SipClient.udp();          // or SipClient.tcp(serverPort)
 *   const req = buildRequest({ method: 'OPTIONS', target: `127.0.0.1:${port}`, transport: 'UDP', localPort: c.localPort });
 *   c.send(req.text, port);
 *   const res = await c.waitForResponse((m) => m.callId === req.callId);
 *   c.close();
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';

const HOST = '127.0.0.1';

/** RFC 3261 §7.3.3 compact forms (+ RFC 3515/3892/4028/6665 ones seen in the wild). */
const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

export function canonicalHeaderName(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT[lower] ?? lower;
}

/** Splits a header value at top-level commas (not inside quotes or <…>). */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i += 1) {
    const ch = value[i] as string;
    if (quoted && ch === '\\') {
      cur += ch + (value[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    if (ch === ',' && !quoted && !angle) {
      if (cur.trim() !== '') out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

export interface SipMessageView {
  readonly raw: string;
  readonly isResponse: boolean;
  readonly status?: number;
  readonly reason?: string;
  readonly method?: string;
  readonly uri?: string;
  /** Header lines in order, names as written, folded lines joined. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
  /** The first value of a header (any case, compact forms accepted). */
  header(name: string): string | undefined;
  /** Every header line's value for that name, in order. */
  headerAll(name: string): string[];
  /** Every element of a list header across all its lines (split at top-level commas). */
  headerValues(name: string): string[];
  readonly callId: string | undefined;
  /** CSeq method (for matching responses to requests). */
  readonly cseqMethod: string | undefined;
  readonly cseq: number | undefined;
  /** The branch parameter of the top Via. */
  readonly branch: string | undefined;
}

/** A lenient parse of one SIP message, for assertions (not a conformance parser). */
export function parseSipText(raw: string): SipMessageView {
  const sep = raw.search(/\r?\n\r?\n/);
  const head = sep >= 0 ? raw.slice(0, sep) : raw;
  const body = sep >= 0 ? raw.slice(sep).replace(/^\r?\n\r?\n/, '') : '';
  const lines = head.split(/\r?\n/);
  const start = lines.shift() ?? '';
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1] as [string, string];
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const headerAll = (name: string): string[] => {
    const want = canonicalHeaderName(name);
    return headers.filter(([n]) => canonicalHeaderName(n) === want).map(([, v]) => v);
  };
  const headerValues = (name: string): string[] => headerAll(name).flatMap(splitHeaderList);
  const resp = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/i.exec(start);
  const req = /^(\S+)\s+(\S+)\s+SIP\/2\.0$/i.exec(start);
  const cseq = /^\s*(\d+)\s+(\S+)/.exec(headerAll('cseq')[0] ?? '');
  const topVia = headerValues('via')[0] ?? '';
  return {
    raw,
    isResponse: resp !== null,
    status: resp ? Number(resp[1]) : undefined,
    reason: resp ? resp[2] : undefined,
    method: req ? req[1] : undefined,
    uri: req ? req[2] : undefined,
    headers,
    body,
    header: (n) => headerAll(n)[0],
    headerAll,
    headerValues,
    callId: headerAll('call-id')[0],
    cseq: cseq ? Number(cseq[1]) : undefined,
    cseqMethod: cseq ? cseq[2] : undefined,
    branch: /;\s*branch=([^;,\s]+)/i.exec(topVia)?.[1],
  };
}

export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

export interface RequestSpec {
  readonly method: string;
  /** host:port of the server; the default Request-URI is sip:<target>. */
  readonly target: string;
  readonly uri?: string;
  readonly transport: 'UDP' | 'TCP';
  /** The client's port (for Via and Contact). */
  readonly localPort: number;
  readonly fromUser?: string;
  readonly toUser?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly branch?: string;
  readonly fromTag?: string;
  /** Extra header lines, e.g. ['Expires: 0', 'Contact: <sip:1001@127.0.0.1:5070>']. */
  readonly headers?: readonly string[];
  readonly body?: string;
  /** Add `;rport` to the Via (default true). */
  readonly rport?: boolean;
}

export interface BuiltRequest {
  readonly text: string;
  readonly callId: string;
  readonly branch: string;
  readonly fromTag: string;
}

/** A well-formed request with fresh Call-ID, branch and tag unless given. */
export function buildRequest(spec: RequestSpec): BuiltRequest {
  const callId = spec.callId ?? `${randomToken()}@${HOST}`;
  const branch = spec.branch ?? `z9hG4bK${randomToken()}`;
  const fromTag = spec.fromTag ?? randomToken(4);
  const [host] = spec.target.split(':');
  const fromUser = spec.fromUser ?? 'test';
  const toUser = spec.toUser ?? fromUser;
  const body = spec.body ?? '';
  const lines = [
    `${spec.method} ${spec.uri ?? `sip:${spec.target}`} SIP/2.0`,
    `Via: SIP/2.0/${spec.transport} ${HOST}:${spec.localPort};branch=${branch}${spec.rport === false ? '' : ';rport'}`,
    'Max-Forwards: 70',
    `From: <sip:${fromUser}@${host}>;tag=${fromTag}`,
    `To: <sip:${toUser}@${host}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${spec.cseq ?? 1} ${spec.method}`,
    'User-Agent: callwatch-test',
    ...(spec.headers ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return { text: lines.join('\r\n'), callId, branch, fromTag };
}

export interface Received {
  readonly message: SipMessageView;
  /** Sender (UDP) or the connection's peer (TCP). */
  readonly from: { address: string; port: number };
  readonly at: number;
}

type Waiter = {
  match: (m: SipMessageView) => boolean;
  resolve: (r: Received) => void;
  cancel: (why: string) => void;
};

/** Splits a TCP byte stream into SIP messages by Content-Length (or `l`). */
export class SipStreamFramer {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      // RFC 3261 §7.5: CRLFs before a start line are ignored (keep-alives).
      let skip = 0;
      while (this.buf[skip] === 0x0d || this.buf[skip] === 0x0a) skip += 1;
      if (skip > 0) this.buf = this.buf.subarray(skip);
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = this.buf.subarray(0, end).toString('latin1');
      const m = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      const total = end + 4 + len;
      if (this.buf.length < total) break;
      out.push(this.buf.subarray(0, total).toString('utf8'));
      this.buf = this.buf.subarray(total);
    }
    return out;
  }
}

/** A raw SIP endpoint on 127.0.0.1 over UDP (own socket) or TCP (one connection). */
export class SipClient {
  readonly received: Received[] = [];
  private readonly waiters = new Set<Waiter>();
  private closedFlag = false;

  private constructor(
    readonly transport: 'UDP' | 'TCP',
    readonly localPort: number,
    private readonly sendRaw: (data: Buffer, port: number, host: string) => void,
    private readonly closeRaw: () => Promise<void>,
  ) {}

  /** A UDP socket on 127.0.0.1, or another loopback `host` (port 0 = any free port). The
   * Via that buildRequest writes still says 127.0.0.1: a proxy adds `received`. */
  static async udp(localPort = 0, host = HOST): Promise<SipClient> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(localPort, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    const client: SipClient = new SipClient(
      'UDP',
      sock.address().port,
      (data, port, host) => sock.send(data, port, host),
      () => new Promise((r) => sock.close(() => r())),
    );
    sock.on('message', (msg, rinfo) =>
      client.deliver(msg.toString('utf8'), { address: rinfo.address, port: rinfo.port }),
    );
    sock.on('error', () => {});
    return client;
  }

  /** A TCP connection to 127.0.0.1:port. */
  static async tcp(port: number, host = HOST): Promise<SipClient> {
    const sock = net.connect({ port, host });
    sock.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve();
      });
    });
    const framer = new SipStreamFramer();
    const client: SipClient = new SipClient(
      'TCP',
      sock.localPort as number,
      (data) => sock.write(data),
      () =>
        new Promise((r) => {
          if (sock.destroyed) return r();
          sock.once('close', () => r());
          sock.end();
          setTimeout(() => sock.destroy(), 500).unref();
        }),
    );
    sock.on('data', (chunk: Buffer) => {
      for (const text of framer.push(chunk)) client.deliver(text, { address: host, port });
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      client.closedFlag = true;
    });
    return client;
  }

  /** Whether the socket is closed (for TCP: also when the server closed it). */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends text or bytes; for TCP the port/host are ignored. */
  send(data: string | Buffer, port = 0, host = HOST): void {
    this.sendRaw(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, port, host);
  }

  /** Resolves with the first received message (already received or future) that matches. */
  waitFor(match: (m: SipMessageView) => boolean, timeoutMs = 5000): Promise<Received> {
    const hit = this.received.find((r) => match(r.message));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        match,
        resolve: (r) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(r);
        },
        cancel: (why) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          reject(new Error(why));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        const got = this.received.map((r) => r.message.raw.split('\r\n')[0]).join(' | ');
        reject(
          new Error(
            `no matching SIP message within ${timeoutMs} ms (received: ${got || 'nothing'})`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** The final (≥200) response to the request with this Call-ID (and CSeq method / number). */
  async waitForResponse(
    callId: string,
    method?: string,
    timeoutMs = 5000,
    cseq?: number,
  ): Promise<SipMessageView> {
    const r = await this.waitFor(
      (m) =>
        m.isResponse &&
        (m.status ?? 0) >= 200 &&
        m.callId === callId &&
        (method === undefined || m.cseqMethod === method) &&
        (cseq === undefined || m.cseq === cseq),
      timeoutMs,
    );
    return r.message;
  }

  /**
   * The next new request of `method` received at index `after` or later: the first
   * message of its transaction (Call-ID, CSeq and top Via branch), never a
   * retransmission of a request received earlier (a server retransmits an INVITE every
   * T1 until it hears a response, RFC 3261 §17.1.1.2, so under load the previous call's
   * INVITE can arrive again after the next call was placed).
   */
  async nextNewRequest(
    method: string,
    after = this.received.length,
    timeoutMs = 5000,
  ): Promise<SipMessageView> {
    const key = (m: SipMessageView) => `${m.callId} ${m.cseq} ${m.cseqMethod} ${m.branch}`;
    const r = await this.waitFor((m) => {
      if (m.isResponse || m.method !== method) return false;
      const i = this.received.findIndex((x) => x.message === m);
      if (i < after) return false;
      return !this.received.slice(0, i).some((x) => key(x.message) === key(m));
    }, timeoutMs);
    return r.message;
  }

  /** The ACK to our final response (To tag `toTag`) to `invite`. */
  async waitForAck(invite: SipMessageView, toTag: string, timeoutMs = 5000): Promise<Received> {
    return this.waitFor(
      (m) =>
        m.method === 'ACK' &&
        m.callId === invite.callId &&
        m.cseq === invite.cseq &&
        new RegExp(`;\\s*tag=${toTag}(?:[;>\\s]|$)`, 'i').test(m.header('To') ?? ''),
      timeoutMs,
    );
  }

  /** Everything received within the next `ms` milliseconds (plus what was already there). */
  async collect(ms: number): Promise<Received[]> {
    await new Promise((r) => setTimeout(r, ms));
    return [...this.received];
  }

  /** Sends a request and resolves with its final response. */
  async request(
    spec: Omit<RequestSpec, 'transport' | 'localPort'>,
    port: number,
    timeoutMs = 5000,
  ) {
    const req = buildRequest({ ...spec, transport: this.transport, localPort: this.localPort });
    this.send(req.text, port);
    const cseq = spec.cseq ?? 1;
    const response = await this.waitForResponse(req.callId, spec.method, timeoutMs, cseq);
    return { request: req, response };
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const w of [...this.waiters]) w.cancel('SIP client closed');
    await this.closeRaw();
  }

  private deliver(text: string, from: { address: string; port: number }): void {
    const r: Received = { message: parseSipText(text), from, at: Date.now() };
    this.received.push(r);
    for (const w of [...this.waiters]) if (w.match(r.message)) w.resolve(r);
  }
}

/** Parameters of one `Digest …` challenge (WWW-Authenticate / Proxy-Authenticate value). */
export function parseDigestChallenge(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const body = value.replace(/^\s*Digest\s+/i, '');
  for (const m of body.matchAll(/([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)/g)) {
    out[(m[1] as string).toLowerCase()] =
      m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[2] as string);
  }
  return out;
}

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * An Authorization header value answering `challenge` (qop=auth when offered, else the
 * RFC 2069 form). Supports MD5 and SHA-256 (RFC 8760), the algorithms callwatch offers.
 */
export function digestAuthorization(
  challenge: Record<string, string>,
  creds: DigestCredentials,
  method: string,
  uri: string,
  cnonce = randomToken(8),
  nc = '00000001',
): string {
  const algorithm = challenge.algorithm ?? 'MD5';
  const fn = /^sha-256$/i.test(algorithm) ? 'sha256' : /^md5$/i.test(algorithm) ? 'md5' : undefined;
  if (!fn) throw new Error(`digestAuthorization: unsupported algorithm ${algorithm}`);
  const h = (s: string): string => createHash(fn).update(s, 'utf8').digest('hex');
  const realm = challenge.realm ?? '';
  const nonce = challenge.nonce ?? '';
  const ha1 = h(`${creds.username}:${realm}:${creds.password}`);
  const ha2 = h(`${method}:${uri}`);
  const qops = (challenge.qop ?? '').split(',').map((q) => q.trim());
  const parts = [
    `username="${creds.username}"`,
    `realm="${realm}"`,
    `nonce="${nonce}"`,
    `uri="${uri}"`,
    `algorithm=${algorithm}`,
  ];
  if (qops.includes('auth')) {
    parts.push(`response="${h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`)}"`);
    parts.push('qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`);
  } else {
    parts.push(`response="${h(`${ha1}:${nonce}:${ha2}`)}"`);
  }
  if (challenge.opaque !== undefined) parts.push(`opaque="${challenge.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}

export interface RegisterSpec {
  readonly user: string;
  readonly password: string;
  /** Server port; the Request-URI is sip:127.0.0.1:<port>. */
  readonly port: number;
  /** Contact header values (e.g. '<sip:1001@127.0.0.1:5070>'); none = a query REGISTER. */
  readonly contacts?: readonly string[];
  /** Expires header value, if any. */
  readonly expires?: number;
  /** Which offered challenge to answer (default the first one offered). */
  readonly algorithm?: 'MD5' | 'SHA-256';
  readonly timeoutMs?: number;
}

export interface RegisterResult {
  /** The 401 (or whatever answered the unauthenticated request). */
  readonly challenge: SipMessageView;
  /** The answer to the authenticated request (undefined if there was no 401). */
  readonly final: SipMessageView | undefined;
}

/**
 * REGISTER → 401 → REGISTER with Authorization → final response, over this client, with
 * one Call-ID and increasing CSeq as RFC 3261 §10.2 asks.
 */
export async function registerWithAuth(
  client: SipClient,
  spec: RegisterSpec,
): Promise<RegisterResult> {
  const uri = `sip:127.0.0.1:${spec.port}`;
  const callId = `${randomToken()}@127.0.0.1`;
  const fromTag = randomToken(4);
  const headers = [
    ...(spec.contacts ?? []).map((c) => `Contact: ${c}`),
    ...(spec.expires === undefined ? [] : [`Expires: ${spec.expires}`]),
  ];
  const base = {
    method: 'REGISTER',
    target: `127.0.0.1:${spec.port}`,
    uri,
    fromUser: spec.user,
    callId,
    fromTag,
  };
  const first = await client.request({ ...base, cseq: 1, headers }, spec.port, spec.timeoutMs);
  if (first.response.status !== 401) return { challenge: first.response, final: undefined };
  const challenges = first.response.headerAll('www-authenticate').map(parseDigestChallenge);
  const chosen =
    spec.algorithm === undefined
      ? challenges[0]
      : challenges.find((c) => (c.algorithm ?? 'MD5').toUpperCase() === spec.algorithm);
  if (!chosen) {
    throw new Error(`no ${spec.algorithm ?? ''} challenge in:\n${first.response.raw}`);
  }
  const auth = digestAuthorization(
    chosen,
    { username: spec.user, password: spec.password },
    'REGISTER',
    uri,
  );
  const second = await client.request(
    { ...base, cseq: 2, headers: [...headers, `Authorization: ${auth}`] },
    spec.port,
    spec.timeoutMs,
  );
  return { challenge: first.response, final: second.response };
}
