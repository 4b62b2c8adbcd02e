/**
 * A headless baresip 1.0.0 phone for integration tests.
 *
 *   const phone = await startBaresip({ user: '1001', password: 'pw1001', serverPort });
 *   await phone.waitForRegistration();
 *   await phone.command('dial', `sip:1002@127.0.0.1:${serverPort}`);
 *   await phone.waitForEvent('CALL_ESTABLISHED', 10000);
 *   await phone.quit();
 *
 * Each phone gets a generated config dir (from test/fixtures/baresip/config, a copy of
 * the verified ../shared/recipes/baresip/config): its
 * own sip_listen port P (baresip also binds P+1 for TLS), ctrl_tcp port, RTP range, a
 * tone WAV as microphone (`aufile`; it hangs up when the file ends) and `snd_path` where
 * the sndfile module writes `dump-<time>-dec.wav` (what it heard) and `-enc.wav` (what
 * it sent). It runs as `timeout LIFETIME baresip -s -f DIR` with stdin from /dev/null
 * (`-s` prints the SIP trace, which the helper parses). `timeout` makes its own process
 * group, so a hard kill takes the group: no baresip outlives a test.
 *
 * Verified behaviour of baresip 1.0.0 (against a stand-in registrar):
 * - the registrar is the AOR's host:port (`<sip:1001@127.0.0.1:PORT>`): REGISTER
 *   sip:127.0.0.1:PORT, To/From <sip:1001@127.0.0.1:PORT>; no `outbound` needed;
 * - its Contact is `<sip:1001-0x55bc2be42230@127.0.0.1:P>;expires=60;+sip.instance="<urn:uuid:…>"`
 *   (random user suffix, expiry as a Contact parameter = regint, no Expires header);
 * - on `quit` it un-registers with the same Contact and `;expires=0`, answering a fresh
 *   401 again, and exits once the 200 arrives (it can hang if nothing answers);
 * - it fails the registration ("Register: Function not implemented") when any
 *   WWW-Authenticate challenge is not MD5: the server must offer MD5 only (PEER_AUTH);
 * - ctrl_tcp pushes events only to connected clients, and an account from the accounts
 *   file registers within milliseconds of start-up, before a client can connect: so
 *   the helper connects first and creates the account with `uanew <account line>`
 *   (which registers at once: REGISTERING, then REGISTER_OK or REGISTER_FAIL);
 *   `quit` gets no response, the connection just closes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { allocatePortBlock } from './ports.js';
import {
  LineCapture,
  makeTempDir,
  removeTempDir,
  stopChild,
  trackChild,
  waitForClose,
  waitForExit,
} from './processes.js';
import { REPO_ROOT } from './server.js';
import { parseSipText, type SipMessageView } from './sipClient.js';

const HOST = '127.0.0.1';

/**
 * Writes a 16-bit PCM mono WAV with a sine tone via sox (8 kHz suits G.711).
 * `amplitude` is relative to full scale (default 0.5, −6 dBFS, so mixes do not clip).
 */
export function makeToneWav(
  file: string,
  freqHz: number,
  seconds: number,
  opts: { sampleRate?: number; amplitude?: number } = {},
): string {
  const args = ['-n', '-r', String(opts.sampleRate ?? 8000), '-c', '1', '-b', '16', file];
  args.push('synth', String(seconds), 'sine', String(freqHz), 'vol', String(opts.amplitude ?? 0.5));
  const r = spawnSync('sox', args, { encoding: 'utf8', timeout: 30000 });
  if (r.error || r.status !== 0) {
    throw new Error(`sox ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  }
  return file;
}

/** One JSON message from baresip's ctrl_tcp. */
export interface BaresipEvent {
  readonly event: true;
  readonly type: string;
  readonly class?: string;
  readonly accountaor?: string;
  readonly direction?: string;
  readonly peeruri?: string;
  readonly id?: string;
  readonly param?: string;
  readonly [k: string]: unknown;
}

export interface BaresipResponse {
  readonly response: true;
  readonly ok: boolean;
  readonly data: string;
  readonly token?: string;
}

/** Netstring (`<len>:<json>,`) framing, as ctrl_tcp speaks it. */
export class NetstringDecoder {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) break;
      const lenText = this.buf.subarray(0, colon).toString('latin1');
      if (!/^\d+$/.test(lenText))
        throw new Error(`bad netstring length ${JSON.stringify(lenText)}`);
      const len = Number(lenText);
      if (this.buf.length < colon + 1 + len + 1) break;
      out.push(this.buf.subarray(colon + 1, colon + 1 + len).toString('utf8'));
      this.buf = this.buf.subarray(colon + 1 + len + 1);
    }
    return out;
  }
}

export function encodeNetstring(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

/** A client for baresip's ctrl_tcp: commands with tokens, and a buffered event queue. */
export class BaresipCtrl {
  /** Every event received, in order. */
  readonly events: BaresipEvent[] = [];
  private readonly consumed = new WeakSet<BaresipEvent>();
  private readonly eventWaiters = new Set<() => void>();
  private readonly pending = new Map<string, (r: BaresipResponse) => void>();
  private tokenSeq = 0;
  private closedFlag = false;

  private constructor(private readonly sock: net.Socket) {
    const dec = new NetstringDecoder();
    sock.on('data', (chunk: Buffer) => {
      for (const text of dec.push(chunk)) this.onMessage(text);
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      this.closedFlag = true;
      for (const w of [...this.eventWaiters]) w();
    });
  }

  /** Connects, retrying until the port opens or `timeoutMs` passes. */
  static async connect(port: number, timeoutMs = 5000): Promise<BaresipCtrl> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ port, host: HOST });
          s.once('connect', () => {
            s.off('error', reject);
            resolve(s);
          });
          s.once('error', reject);
        });
        return new BaresipCtrl(sock);
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`ctrl_tcp ${port}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends a command (e.g. 'dial', 'hangup', 'reginfo') and resolves with its response. */
  command(command: string, params?: string, timeoutMs = 5000): Promise<BaresipResponse> {
    this.tokenSeq += 1;
    const token = `t${this.tokenSeq}`;
    const msg: Record<string, string> = { command, token };
    if (params !== undefined) msg.params = params;
    return new Promise((resolve, reject) => {
      if (this.closedFlag) return reject(new Error(`ctrl_tcp closed (command ${command})`));
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`no response to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.sock.write(encodeNetstring(JSON.stringify(msg)));
    });
  }

  /** Sends a command without waiting for a response (for `quit`). */
  send(command: string, params?: string): void {
    const msg: Record<string, string> = { command };
    if (params !== undefined) msg.params = params;
    if (!this.closedFlag) this.sock.write(encodeNetstring(JSON.stringify(msg)));
  }

  /**
   * The next not-yet-consumed event of this type (optionally matching `match`), from the
   * buffer or as it arrives. Each event is returned once.
   */
  waitForEvent(
    type: string,
    timeoutMs = 10000,
    match: (e: BaresipEvent) => boolean = () => true,
  ): Promise<BaresipEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const e = this.events.find((x) => !this.consumed.has(x) && x.type === type && match(x));
        if (!e) return false;
        this.consumed.add(e);
        resolve(e);
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.eventWaiters.delete(waiter);
        const seen = this.events.map((e) => e.type).join(', ');
        reject(
          new Error(`no ${type} event within ${timeoutMs} ms (events so far: ${seen || 'none'})`),
        );
      }, timeoutMs);
      const waiter = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.eventWaiters.delete(waiter);
        } else if (this.closedFlag) {
          clearTimeout(timer);
          this.eventWaiters.delete(waiter);
          reject(new Error(`ctrl_tcp closed while waiting for ${type}`));
        }
      };
      this.eventWaiters.add(waiter);
    });
  }

  close(): void {
    this.closedFlag = true;
    this.sock.destroy();
  }

  private onMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as Record<string, unknown>;
    if (m.event === true) {
      this.events.push(m as unknown as BaresipEvent);
      for (const w of [...this.eventWaiters]) w();
    } else if (m.response === true && typeof m.token === 'string') {
      const r = this.pending.get(m.token);
      if (r) {
        this.pending.delete(m.token);
        r(m as unknown as BaresipResponse);
      }
    }
  }
}

/** A SIP message from baresip's `-s` trace. */
export interface TracedSip {
  readonly direction: 'sent' | 'received';
  readonly transport: string;
  readonly src: string;
  readonly dst: string;
  readonly message: SipMessageView;
}

/** Matches a traced request with `method` the phone sent or received (for `waitForTrace`). */
export function tracedRequest(
  direction: TracedSip['direction'],
  method: string,
): (t: TracedSip) => boolean {
  return (t) => t.direction === direction && t.message.method === method;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** Parses the SIP messages (with their bodies, e.g. the SDP offered) out of baresip's `-s` trace output. */
export function parseBaresipTrace(log: string, localAddr: string): TracedSip[] {
  const out: TracedSip[] = [];
  const text = log.replace(ANSI, '').replace(/\r/g, '');
  const re = /^(UDP|TCP|TLS|WS|WSS) (\S+) -> (\S+)\n([\s\S]*?)\n\n/gm;
  for (const m of text.matchAll(re)) {
    const [, transport, src, dst, head] = m as unknown as [string, string, string, string, string];
    const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
    const body = length > 0 ? traceBody(text, (m.index ?? 0) + m[0].length, length) : '';
    out.push({
      direction: src === localAddr ? 'sent' : 'received',
      transport,
      src,
      dst,
      message: parseSipText(`${head.replace(/\n/g, '\r\n')}\r\n\r\n${body}`),
    });
  }
  return out;
}

/**
 * The `length` bytes of a body that starts at `from` in the trace: its lines lost their
 * CR there, so each line counts two bytes of line end as on the wire.
 */
function traceBody(text: string, from: number, length: number): string {
  let body = '';
  let i = from;
  while (body.length < length && i < text.length) {
    const nl = text.indexOf('\n', i);
    const end = nl < 0 ? text.length : nl;
    body += `${text.slice(i, end)}\r\n`;
    i = end + 1;
  }
  return body;
}

export interface BaresipOptions {
  readonly user: string;
  readonly password: string;
  /** The server's SIP port on 127.0.0.1 (the AOR's host:port = the registrar). */
  readonly serverPort: number;
  /** auth_user if different from the user. */
  readonly authUser?: string;
  /** Tone played as microphone: a WAV path, or a frequency for a generated one. */
  readonly toneWav?: string;
  readonly toneHz?: number;
  /** Length of the generated tone (default 60 s; aufile hangs up when it ends). */
  readonly toneSeconds?: number;
  /** Registration interval (default 60 = the server's default minExpires; 0 = never register). */
  readonly regint?: number;
  /** auto (default) or manual. */
  readonly answerMode?: 'auto' | 'manual' | 'early';
  /** PCMU by default. */
  readonly audioCodecs?: string;
  /** Extra `;key=value` account parameters. */
  readonly accountParams?: readonly string[];
  /** Replaces whole config lines by key, e.g. { call_max_calls: '8' }. */
  readonly config?: Readonly<Record<string, string>>;
  /** Codec modules beside the recipe's g711.so, e.g. ['g722.so', 'opus.so']. */
  readonly modules?: readonly string[];
  /** Hard limit on the process's life (default 300 s), enforced by `timeout`. */
  readonly lifetimeSec?: number;
  /** Keep the config/recordings dir after quit (default false; removed at process exit). */
  readonly keepDir?: boolean;
  /** A temp dir of the caller's (makeTempDir; e.g. holding `toneWav`) removed with the phone's own. */
  readonly alsoRemove?: string;
}

export interface BaresipPhone {
  readonly user: string;
  readonly sipPort: number;
  readonly ctrlPort: number;
  readonly rtpPorts: readonly [number, number];
  /** The phone's SIP address, 127.0.0.1:P. */
  readonly address: string;
  readonly dir: string;
  readonly recordingsDir: string;
  readonly process: ChildProcess;
  readonly ctrl: BaresipCtrl;
  /** baresip's stdout (log and SIP trace), then its stderr if any. */
  log(): string;
  /** SIP messages from the trace (sent and received). */
  trace(): TracedSip[];
  /** Requests the phone sent with this method. */
  sentRequests(method: string): SipMessageView[];
  /**
   * The trace, once it holds a message `match` accepts (or after `timeoutMs`, default 5 s,
   * as it is then). The trace is read from the phone's stdout, a channel apart from its
   * ctrl events: an event can reach the test before the trace of the message behind it.
   */
  waitForTrace(match: (t: TracedSip) => boolean, timeoutMs?: number): Promise<TracedSip[]>;
  command(command: string, params?: string, timeoutMs?: number): Promise<BaresipResponse>;
  waitForEvent(
    type: string,
    timeoutMs?: number,
    match?: (e: BaresipEvent) => boolean,
  ): Promise<BaresipEvent>;
  /**
   * Resolves once the account is registered (REGISTER_OK, or `reginfo` says OK) and the
   * trace holds the 2xx to its REGISTER (so every REGISTER it sent is in the trace too).
   */
  waitForRegistration(timeoutMs?: number): Promise<void>;
  /** WAV files in snd_path: `dec` = what the phone heard, `enc` = what it sent. */
  recordings(): { dec: string[]; enc: string[] };
  /** Sends `quit`, waits for exit (it un-registers first), kills after `graceMs`. */
  quit(graceMs?: number): Promise<number | null>;
  /** Kills at once (no un-REGISTER). */
  kill(): Promise<void>;
}

/** The verified recipe (../shared/recipes/baresip/config), copied into the fixtures. */
export const BARESIP_CONFIG_TEMPLATE = path.join(REPO_ROOT, 'test/fixtures/baresip/config');

/**
 * The baresip config text: the verified recipe with per-instance values replaced, and
 * `extraModules` (e.g. g722.so, opus.so) loaded after the recipe's last `module` line.
 */
export function baresipConfig(
  values: Readonly<Record<string, string>>,
  extraModules: readonly string[] = [],
): string {
  const template = readFileSync(BARESIP_CONFIG_TEMPLATE, 'utf8').trimEnd().split('\n');
  const lastModule = template.reduce((at, l, i) => (/^module\s/.test(l) ? i : at), -1);
  const lines = [
    ...template.slice(0, lastModule + 1),
    ...extraModules.map((m) => `module\t\t\t${m}`),
    ...template.slice(lastModule + 1),
  ];
  const seen = new Set<string>();
  const out = lines.map((line) => {
    const key = line.split(/\s+/)[0] as string;
    if (key in values && key !== 'module' && key !== 'module_tmp' && key !== 'module_app') {
      seen.add(key);
      return `${key}\t\t${values[key]}`;
    }
    return line;
  });
  for (const [k, v] of Object.entries(values)) if (!seen.has(k)) out.push(`${k}\t\t${v}`);
  return `${out.join('\n')}\n`;
}

/** Ports per phone: P = SIP (P+1 TLS), P+2 ctrl_tcp, P+4 … P+15 RTP/RTCP. */
const PORT_BLOCK = 16;

export async function startBaresip(opts: BaresipOptions): Promise<BaresipPhone> {
  const dir = makeTempDir(`baresip-${opts.user}`);
  const removeDirs = (): void => {
    removeTempDir(dir);
    if (opts.alsoRemove !== undefined) removeTempDir(opts.alsoRemove);
  };
  const recordingsDir = path.join(dir, 'recordings');
  mkdirSync(recordingsDir);
  const base = await allocatePortBlock(PORT_BLOCK);
  const sipPort = base;
  const ctrlPort = base + 2;
  const rtpPorts: [number, number] = [base + 4, base + PORT_BLOCK - 1];
  const wav =
    opts.toneWav ??
    makeToneWav(path.join(dir, 'tone.wav'), opts.toneHz ?? 1000, opts.toneSeconds ?? 60);
  writeFileSync(
    path.join(dir, 'config'),
    baresipConfig(
      {
        sip_listen: `${HOST}:${sipPort}`,
        rtp_ports: `${rtpPorts[0]}-${rtpPorts[1]}`,
        ctrl_tcp_listen: `${HOST}:${ctrlPort}`,
        audio_source: `aufile,${wav}`,
        snd_path: recordingsDir,
        ...opts.config,
      },
      opts.modules,
    ),
  );
  const params = [
    `auth_user=${opts.authUser ?? opts.user}`,
    `auth_pass=${opts.password}`,
    `regint=${opts.regint ?? 60}`,
    `answermode=${opts.answerMode ?? 'auto'}`,
    `audio_codecs=${opts.audioCodecs ?? 'pcmu'}`,
    ...(opts.accountParams ?? []),
  ];
  const account = `<sip:${opts.user}@${HOST}:${opts.serverPort}>;${params.join(';')}`;
  // The account is created over ctrl_tcp (`uanew`) once the helper is connected, so no
  // event (REGISTERING, REGISTER_OK/FAIL) can fire before anyone listens: loaded from
  // this file, baresip registers within milliseconds of starting and the events race
  // the ctrl connection (seen with REGISTER_FAIL).
  writeFileSync(
    path.join(dir, 'accounts'),
    `# created at start-up with the ctrl_tcp command: uanew <line below>\n# ${account}\n`,
  );

  const lifetime = String(opts.lifetimeSec ?? 300);
  const child = spawn('timeout', ['-k', '5', lifetime, 'baresip', '-s', '-f', dir], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // `timeout` puts itself and baresip in a new process group: kill the group.
  trackChild(child, true);
  // The SIP trace and the log go to stdout; stderr is kept apart so lines never interleave.
  const stdout = new LineCapture(50000);
  const stderr = new LineCapture(2000);
  stdout.attach(child.stdout);
  stderr.attach(child.stderr);
  const out = {
    text: () =>
      `${stdout.text()}${stderr.all().length > 0 ? `\n--- stderr ---\n${stderr.text()}` : ''}`,
    tail: (n: number) => stdout.tail(n),
  };
  const address = `${HOST}:${sipPort}`;

  let ctrl: BaresipCtrl;
  try {
    ctrl = await Promise.race([
      BaresipCtrl.connect(ctrlPort, 10000),
      waitForExit(child, 10000).then((s) => {
        throw new Error(`baresip exited (${s?.code ?? s?.signal}) before ctrl_tcp opened`);
      }),
    ]);
  } catch (err) {
    await stopChild(child, { graceMs: 1000, group: true });
    await waitForClose(child);
    const log = out.text();
    removeDirs();
    throw new Error(`${(err as Error).message}\n--- baresip log ---\n${log}`);
  }

  try {
    const created = await ctrl.command('uanew', account, 5000);
    if (!created.ok) throw new Error(`uanew failed: ${created.data}`);
  } catch (err) {
    await stopChild(child, { graceMs: 1000, group: true });
    await waitForClose(child);
    const log = out.text();
    removeDirs();
    throw new Error(`${(err as Error).message}\n--- baresip log ---\n${log}`);
  }

  let quitting: Promise<number | null> | undefined;
  const finish = async (graceMs: number, viaQuit: boolean): Promise<number | null> => {
    if (viaQuit) ctrl.send('quit');
    const res = await stopChild(child, {
      signal: viaQuit ? null : 'SIGKILL',
      graceMs,
      group: true,
    });
    ctrl.close();
    await waitForClose(child);
    if (!opts.keepDir) removeDirs();
    return res.killed ? null : res.code;
  };

  const trace = (): TracedSip[] => parseBaresipTrace(stdout.text(), address);
  const waitForTrace = async (
    match: (t: TracedSip) => boolean,
    timeoutMs = 5000,
  ): Promise<TracedSip[]> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const list = trace();
      if (list.some(match) || Date.now() > end) return list;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const phone: BaresipPhone = {
    user: opts.user,
    sipPort,
    ctrlPort,
    rtpPorts,
    address,
    dir,
    recordingsDir,
    process: child,
    ctrl,
    log: () => out.text(),
    trace,
    sentRequests: (method) =>
      trace()
        .filter(tracedRequest('sent', method))
        .map((t) => t.message),
    waitForTrace,
    command: (c, p, t) => ctrl.command(c, p, t),
    waitForEvent: (type, t, m) => ctrl.waitForEvent(type, t, m),
    async waitForRegistration(timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      const traced = async (): Promise<void> => {
        const ok = (t: TracedSip): boolean =>
          t.direction === 'received' &&
          t.message.cseqMethod === 'REGISTER' &&
          (t.message.status ?? 0) >= 200 &&
          (t.message.status ?? 0) < 300;
        const list = await waitForTrace(ok, Math.max(0, deadline - Date.now()) + 2000);
        if (!list.some(ok)) throw new Error(`${opts.user}: registered, but no 2xx in the trace`);
      };
      for (;;) {
        if (ctrl.events.some((e) => e.type === 'REGISTER_OK')) return traced();
        const fail = ctrl.events.find((e) => e.type === 'REGISTER_FAIL');
        if (fail) throw new Error(`REGISTER_FAIL: ${fail.param ?? ''}\n${out.tail(80)}`);
        const info = await ctrl.command('reginfo', undefined, 2000).catch(() => undefined);
        if (info && /\bOK\b/.test(info.data.replace(ANSI, ''))) return traced();
        if (Date.now() > deadline) {
          throw new Error(`${opts.user} not registered within ${timeoutMs} ms\n${out.tail(80)}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    recordings() {
      const files = readdirSync(recordingsDir).map((f) => path.join(recordingsDir, f));
      return {
        dec: files.filter((f) => f.endsWith('-dec.wav')),
        enc: files.filter((f) => f.endsWith('-enc.wav')),
      };
    },
    quit(graceMs = 10000) {
      quitting ??= finish(graceMs, true);
      return quitting;
    },
    async kill() {
      quitting ??= finish(5000, false);
      await quitting;
    },
  };
  return phone;
}

/** Reads a file from a phone's dir (e.g. a recording) before quit() removes it. */
export function readPhoneFile(phone: BaresipPhone, name: string): Buffer {
  return readFileSync(path.isAbsolute(name) ? name : path.join(phone.dir, name));
}
