/**
 * Starts the real callwatch server (`node dist/src/cli.js --config FILE`) as a child
 * process for an integration test, on ports of its own.
 *
 *   const server = await startServer({ auth: { algorithms: ['MD5'] } }, { extensions });
 *   await server.httpGet('/healthz');
 *   expect(await server.stop()).toBe(0);
 *
 * The config is config/default.yaml with the overrides deep-merged in (objects merge,
 * arrays and scalars replace), plus per-test ports, `log.level: info` (the "listening"
 * line is an info log), no announcements and no SIP warm-up (the overrides may set them)
 * and the given extensions. The server must be built first
 * (`npm run build`; `npm test` does it); CALLWATCH_CLI=path overrides the entry point.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { allocatePort } from './ports.js';
import {
  LineCapture,
  makeTempDir,
  removeTempDir,
  stopChild,
  trackChild,
  waitForClose,
  waitForExit,
} from './processes.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_CONFIG_PATH = path.join(REPO_ROOT, 'config/default.yaml');
export const HOST = '127.0.0.1';

/**
 * Auth settings the real peers can use. SIPp 3.6.1 answers only the *first*
 * WWW-Authenticate header and aborts ("createAuthHeader: authentication must use MD5 or
 * AKAv1-MD5", exit 255) when it is SHA-256; baresip 1.0.0 (libre) fails the whole
 * registration ("Register: Function not implemented") when *any* challenge is not MD5,
 * whatever the order. Both verified against a stand-in registrar. So tests that drive
 * SIPp or baresip must offer MD5 only.
 */
export const PEER_AUTH = { auth: { algorithms: ['MD5'] } } as const;

export interface ExtensionSpec {
  readonly number: string;
  readonly password: string;
  readonly displayName?: string;
  readonly role?: 'agent' | 'supervisor' | 'admin';
  /** The web app's sign-in password instead of `password`. */
  readonly webPassword?: string;
  /** false: the extension opted out of being monitored. */
  readonly allowMonitoring?: boolean;
}

/** Extensions first … first+count-1, password `pw<number>` unless given a function. */
export function makeExtensions(
  first: number,
  count: number,
  password: (n: string) => string = (n) => `pw${n}`,
): ExtensionSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const number = String(first + i);
    return { number, password: password(number), displayName: `Ext ${number}`, role: 'agent' };
  });
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type ConfigObject = { [k: string]: unknown };

function isPlainObject(v: unknown): v is ConfigObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: plain objects merge key by key; anything else (arrays too) replaces. */
export function mergeConfig(base: ConfigObject, overrides: ConfigObject): ConfigObject {
  const out: ConfigObject = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

export function loadDefaultConfig(): ConfigObject {
  const parsed: unknown = YAML.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8'));
  if (!isPlainObject(parsed)) throw new Error(`${DEFAULT_CONFIG_PATH} is not a YAML mapping`);
  return parsed;
}

let staleWarned = false;

function newestSourceMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The CLI entry point; throws a clear error when the server has not been built. */
export function cliPath(): string {
  const override = process.env.CALLWATCH_CLI;
  if (override) return path.resolve(REPO_ROOT, override);
  const cli = path.join(REPO_ROOT, 'dist/src/cli.js');
  if (!existsSync(cli)) {
    throw new Error(`${cli} does not exist: build the server first (npm run build)`);
  }
  if (!staleWarned) {
    staleWarned = true;
    const built = statSync(cli).mtimeMs;
    const src = Math.max(
      ...['src', 'sip', 'media'].map((d) => newestSourceMtime(path.join(REPO_ROOT, d))),
    );
    if (src > built)
      process.stderr.write(`warning: ${cli} is older than the sources: run npm run build\n`);
  }
  return cli;
}

export interface LogEntry {
  readonly level?: number;
  readonly msg?: string;
  readonly [k: string]: unknown;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON when the content type says JSON (or it parses), else undefined. */
  readonly json: unknown;
}

/**
 * The admin API token every test server gets (beside the tokens a test configures), and
 * that ServerHandle.httpGet sends unless told otherwise.
 */
export const TEST_ADMIN_TOKEN = {
  name: 'test-admin',
  token: 'test-admin-token-0123456789',
  scope: 'admin',
  extension: null,
} as const;

export interface HttpGetOptions {
  readonly timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>`; none: no Authorization header. */
  readonly token?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Reads a response to its end: status, headers, text, and the text parsed as JSON if it parses. */
export function readHttpResult(res: http.IncomingMessage): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    res.setEncoding('utf8');
    let body = '';
    res.on('data', (c: string) => (body += c));
    res.on('end', () => {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
    });
    res.on('error', reject);
  });
}

/** GET http://127.0.0.1:port/path with no keep-alive (no socket outlives the call). */
export function httpGet(
  port: number,
  urlPath: string,
  opts: HttpGetOptions = {},
): Promise<HttpResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const headers: Record<string, string> = { connection: 'close', ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path: urlPath, agent: false, headers }, (res) => {
      readHttpResult(res).then(resolve, reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${urlPath}: timeout`)));
    req.on('error', reject);
  });
}

/** One sample of a Prometheus text exposition. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export function parsePrometheus(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      );
    }
    const raw = m[4] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

export interface RegistrationContact {
  readonly uri: string;
  readonly expiresAt: string;
  readonly source: string;
}

export interface Registration {
  readonly extension: string;
  readonly contacts: RegistrationContact[];
}

export interface StartServerOptions {
  /** Replaces the `extensions` list of the default config. */
  readonly extensions?: readonly ExtensionSpec[];
  /** How long to wait for the "listening" log line (default 15 s). */
  readonly startTimeoutMs?: number;
  /** Pass the config file as `--config FILE` (default) or in CALLWATCH_CONFIG. */
  readonly configVia?: 'arg' | 'env';
  /** Extra environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * A file size limit (RLIMIT_FSIZE, set by `ulimit -f` in /bin/sh, 512-byte blocks in a
   * POSIX shell) for the server: a write past it fails with EFBIG (Node ignores SIGXFSZ),
   * the way a full disk or a quota fails a recording mid-call.
   */
  readonly maxFileBytes?: number;
}

export interface StopOptions {
  /** SIGTERM → exit wait before SIGKILL (default 10 s). */
  readonly graceMs?: number;
  /** The exit code stop() insists on (default 0); null accepts anything. */
  readonly expectCode?: number | null;
}

export interface ServerHandle {
  readonly host: string;
  readonly sipPort: number;
  readonly httpPort: number;
  readonly pid: number;
  readonly configPath: string;
  /** The config object that was written (after merging). */
  readonly config: ConfigObject;
  readonly process: ChildProcess;
  /** Parsed JSON log lines from stdout (non-JSON lines appear as `{ msg: line }`). */
  logs(): LogEntry[];
  /** Raw stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the first log entry (past or future) that matches. */
  waitForLog(match: (e: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
  /** GET with the test admin token (opts.token replaces it; null: no token). */
  httpGet(
    urlPath: string,
    opts?: Omit<HttpGetOptions, 'token'> & { token?: string | null },
  ): Promise<HttpResult>;
  /** GET /metrics, parsed. */
  metrics(): Promise<MetricSample[]>;
  /** The value of an unlabelled metric (or the sum over its label sets); undefined if absent. */
  metric(name: string): Promise<number | undefined>;
  /** GET /v1/registrations (asserts 200). */
  registrations(): Promise<Registration[]>;
  /** SIGTERM, wait, assert the exit code; returns it. Idempotent. */
  stop(opts?: StopOptions): Promise<number | null>;
}

function parseLogLine(line: string): LogEntry {
  if (line.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(line);
      if (isPlainObject(v)) return v as LogEntry;
    } catch {
      // not JSON: fall through
    }
  }
  return { msg: line };
}

async function startOnce(
  overrides: ConfigObject,
  opts: StartServerOptions,
): Promise<{ handle?: ServerHandle; addrInUse: boolean; error?: Error }> {
  const cli = cliPath();
  const dir = makeTempDir('server');
  const explicitSip = (overrides.sip as ConfigObject | undefined)?.listen as
    ConfigObject | undefined;
  const sipPort = await allocatePort();
  const httpPort = await allocatePort({ udp: false });
  let config = loadDefaultConfig();
  config = mergeConfig(config, {
    sip: {
      listen: { address: HOST, udpPort: sipPort, tcpPort: sipPort },
      // The SIP warm-up would add its budget to each of the hundreds of starts in the
      // suite; the tests about it turn it on (test/integration/sip-warmup.test.ts).
      warmup: { budgetMs: 0 },
    },
    http: { address: HOST, port: httpPort },
    log: { level: 'info' },
    // Call recordings and the audit log go to the test's own directory (removed with it).
    recording: { directory: path.join(dir, 'recordings') },
    audit: { file: path.join(dir, 'audit', 'monitoring.jsonl') },
    // The demo's prompts hold every call's parties apart for seconds: a test that is
    // about them turns them on (test/integration/announcements.test.ts).
    announcements: { callerOnAnswer: null, agentOnMonitor: null },
  });
  if (opts.extensions) {
    config.extensions = opts.extensions.map((e) => ({ ...e }));
    // The demo trunk's DIDs name the demo extensions; a test with its own extensions
    // brings its own trunks too (the config refuses a DID that names no extension).
    if (!('trunks' in overrides)) config.trunks = [];
    // And the demo queue's members; a test with queues brings its own.
    if (!('queues' in overrides)) config.queues = [];
    // Likewise the demo monitoring group: the test's supervisors monitor everyone else.
    const monitors = opts.extensions.filter((e) => e.role === 'supervisor').map((e) => e.number);
    const members = opts.extensions.filter((e) => e.role !== 'supervisor').map((e) => e.number);
    config.monitoring = mergeConfig(config.monitoring as ConfigObject, {
      groups:
        monitors.length > 0 && members.length > 0
          ? [{ name: 'test', monitors, members, modes: ['all'] }]
          : [],
    });
    // The demo API token names no extension; tests bring their own tokens when needed.
    config.api = { tokens: [] };
  }
  config = mergeConfig(config, overrides);
  // The "sip on dgram" jest project runs the SIP tests on node:dgram (test/helpers/sipIo.ts),
  // unless the test states sip.io itself.
  const sipIo = process.env.CALLWATCH_SIP_IO;
  if (sipIo !== undefined && sipIo !== '' && (overrides.sip as ConfigObject)?.io === undefined) {
    config = mergeConfig(config, { sip: { io: sipIo } });
  }
  // The helper's own admin token, whatever tokens the test configured.
  const api = (config.api ?? {}) as ConfigObject;
  const tokens = Array.isArray(api.tokens) ? (api.tokens as ConfigObject[]) : [];
  if (!tokens.some((t) => t.name === TEST_ADMIN_TOKEN.name)) {
    config.api = { ...api, tokens: [...tokens, { ...TEST_ADMIN_TOKEN }] };
  }
  const listen = (config.sip as ConfigObject).listen as ConfigObject;
  const actualSip = (explicitSip?.udpPort ??
    explicitSip?.tcpPort ??
    listen.udpPort ??
    listen.tcpPort) as number;
  const actualHttp = (config.http as ConfigObject).port as number;
  const configPath = path.join(dir, 'callwatch.yaml');
  writeFileSync(configPath, YAML.stringify(config));

  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.CALLWATCH_CONFIG;
  const args = [cli];
  if ((opts.configVia ?? 'arg') === 'arg') args.push('--config', configPath);
  else env.CALLWATCH_CONFIG = configPath;
  const limit = opts.maxFileBytes;
  const child = spawn(
    limit === undefined ? process.execPath : '/bin/sh',
    limit === undefined
      ? args
      : [
          '-c',
          'ulimit -f "$1" && shift && exec "$@"',
          'sh',
          String(Math.ceil(limit / 512)),
          process.execPath,
          ...args,
        ],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  trackChild(child);
  const stdout = new LineCapture();
  const stderr = new LineCapture(5000);
  stdout.attach(child.stdout);
  stderr.attach(child.stderr);
  const output = (): string => `--- stdout ---\n${stdout.text()}\n--- stderr ---\n${stderr.text()}`;
  const logs = (): LogEntry[] =>
    stdout
      .all()
      .filter((l) => l !== '')
      .map(parseLogLine);

  const waitForLog = (match: (e: LogEntry) => boolean, timeoutMs = 10000): Promise<LogEntry> => {
    const found = logs().find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const off = stdout.onLine((line) => {
        const e = parseLogLine(line);
        if (match(e)) {
          cleanup();
          resolve(e);
        }
      });
      const onExit = (): void => {
        cleanup();
        reject(new Error(`server exited while waiting for a log line\n${output()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line within ${timeoutMs} ms\n${output()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        off();
        clearTimeout(timer);
        child.off('exit', onExit);
      };
      child.once('exit', onExit);
    });
  };

  const startTimeoutMs = opts.startTimeoutMs ?? 15000;
  try {
    await waitForLog((e) => e.msg === 'listening', startTimeoutMs);
  } catch (err) {
    await stopChild(child, { graceMs: 2000 });
    await waitForClose(child);
    removeTempDir(dir);
    const text = output();
    return {
      addrInUse: /EADDRINUSE/.test(text),
      error: new Error(
        `callwatch did not log "listening" within ${startTimeoutMs} ms ` +
          `(exit ${child.exitCode ?? child.signalCode ?? 'none'}): ${(err as Error).message.split('\n')[0]}\n` +
          `config ${configPath}:\n${YAML.stringify(config)}\n${text}`,
      ),
    };
  }

  let stopped: Promise<number | null> | undefined;
  const handle: ServerHandle = {
    host: HOST,
    sipPort: actualSip,
    httpPort: actualHttp,
    pid: child.pid as number,
    configPath,
    config,
    process: child,
    logs,
    output,
    waitForLog,
    httpGet: (p, o = {}) => {
      const { token, ...rest } = o;
      const t = token === undefined ? TEST_ADMIN_TOKEN.token : (token ?? undefined);
      return httpGet(actualHttp, p, t === undefined ? rest : { ...rest, token: t });
    },
    async metrics() {
      const r = await httpGet(actualHttp, '/metrics');
      if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${r.body}`);
      return parsePrometheus(r.body);
    },
    async metric(name) {
      const samples = (await handle.metrics()).filter((s) => s.name === name);
      return samples.length === 0 ? undefined : samples.reduce((a, s) => a + s.value, 0);
    },
    async registrations() {
      const r = await httpGet(actualHttp, '/v1/registrations', { token: TEST_ADMIN_TOKEN.token });
      const body = r.json as { registrations?: Registration[] } | undefined;
      if (r.status !== 200 || !Array.isArray(body?.registrations)) {
        throw new Error(`GET /v1/registrations: ${r.status} ${r.body}`);
      }
      return body.registrations;
    },
    stop(stopOpts = {}) {
      stopped ??= (async () => {
        const res = await stopChild(child, { graceMs: stopOpts.graceMs ?? 10000 });
        await waitForClose(child);
        stdout.flush();
        removeTempDir(dir);
        const expect = stopOpts.expectCode === undefined ? 0 : stopOpts.expectCode;
        if (res.killed) {
          throw new Error(
            `callwatch ignored SIGTERM for ${stopOpts.graceMs ?? 10000} ms and was killed\n${output()}`,
          );
        }
        if (expect !== null && res.code !== expect) {
          throw new Error(
            `callwatch exited with ${res.code ?? res.signal} instead of ${expect}\n${output()}`,
          );
        }
        return res.code;
      })();
      return stopped;
    },
  };
  return { handle, addrInUse: false };
}

/**
 * Starts a server on fresh ports and resolves once it logged "listening". Retries
 * (with new ports) when a port was taken in the meantime (EADDRINUSE).
 */
export async function startServer(
  overrides: ConfigObject = {},
  opts: StartServerOptions = {},
): Promise<ServerHandle> {
  let last: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const r = await startOnce(overrides, opts);
    if (r.handle) return r.handle;
    last = r.error;
    if (!r.addrInUse) break;
  }
  throw last ?? new Error('startServer failed');
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Whether it had to be killed after `timeoutMs`. */
  readonly timedOut: boolean;
}

/**
 * Runs the CLI with arbitrary arguments until it exits by itself (for start-up errors);
 * SIGTERM after `timeoutMs`, SIGKILL 5 s later.
 */
export async function runCli(
  args: readonly string[],
  opts: { env?: Readonly<Record<string, string>>; timeoutMs?: number } = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  if (!opts.env?.CALLWATCH_CONFIG) delete env.CALLWATCH_CONFIG;
  const child = spawn(process.execPath, [cliPath(), ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  const out = new LineCapture();
  const err = new LineCapture();
  out.attach(child.stdout);
  err.attach(child.stderr);
  let status = await waitForExit(child, opts.timeoutMs ?? 10000);
  let timedOut = false;
  if (!status) {
    timedOut = true;
    status = await stopChild(child, { graceMs: 5000 });
  }
  await waitForClose(child);
  out.flush();
  err.flush();
  return {
    code: status.code,
    signal: status.signal,
    stdout: out.text(),
    stderr: err.text(),
    timedOut,
  };
}

/** Writes a YAML config to a new temp dir; returns its path (remove with removeTempDir(dirname)). */
export function writeTempConfig(config: Json | ConfigObject, raw?: string): string {
  const dir = makeTempDir('config');
  const file = path.join(dir, 'callwatch.yaml');
  writeFileSync(file, raw ?? YAML.stringify(config));
  return file;
}
