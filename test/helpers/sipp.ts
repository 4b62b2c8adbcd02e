/**
 * Runs SIPp (Debian `sip-tester`, 3.6.1) as a bounded child process.
 *
 * Always `-nostdin`, `-m N`, `-timeout` (+ `-timeout_error`), bound to 127.0.0.1 on a
 * port of its own, and killed by PID after an outer timeout. Never `-bg` (its daemonised
 * child becomes a zombie). Stats, errors, messages and `<log>` output go to a temp dir
 * that is read back and removed.
 *
 * Exit codes: 0 all calls succeeded, 1 some failed, 97 exit on internal command,
 * 99 normal exit without any call processed, 255 fatal error (e.g. a scenario problem,
 * or "createAuthHeader: authentication must use MD5" when the first challenge is SHA-256).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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
import { REPO_ROOT } from './server.js';

export const SIPP_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/sipp');

/** A scenario in test/fixtures/sipp (or any absolute path). */
export function sippScenario(name: string): string {
  return path.isAbsolute(name) ? name : path.join(SIPP_FIXTURES, name);
}

/** One injection-file row for a digest user: field0 = user, field1 = the auth keyword. */
export function authRow(user: string, password: string, ...more: string[]): string[] {
  return [user, `[authentication username=${user} password=${password}]`, ...more];
}

export interface Injection {
  readonly mode?: 'SEQUENTIAL' | 'RANDOM' | 'USER';
  readonly rows: ReadonlyArray<readonly string[]>;
}

/** Writes a SIPp -inf file: first line the mode, then `;`-separated fields. */
export function writeInjectionFile(file: string, inj: Injection): void {
  for (const row of inj.rows) {
    for (const f of row)
      if (/[;\n]/.test(f)) throw new Error(`injection field contains ; or newline: ${f}`);
  }
  const lines = [inj.mode ?? 'SEQUENTIAL', ...inj.rows.map((r) => r.join(';'))];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

export interface SippOptions {
  /** Scenario file (fixture name or absolute path); or use `builtin`. */
  readonly scenario?: string;
  /** A built-in scenario (`-sn`), e.g. 'uas' or 'uac'. */
  readonly builtin?: string;
  /** host:port of the peer (omit for a UAS). */
  readonly remote?: string;
  /** u1 (UDP, one socket; default), un, t1 (TCP, one connection), tn. */
  readonly transport?: 'u1' | 'un' | 't1' | 'tn';
  /** SIPp's own SIP port; a free one is allocated when omitted. */
  readonly localPort?: number;
  /** -m: calls to make (or, for a UAS, to handle) before exiting. Required. */
  readonly calls: number;
  /** -r calls per -rp period (default SIPp's 10 per second). */
  readonly rate?: number;
  readonly ratePeriodMs?: number;
  /** -l: maximum simultaneous calls. */
  readonly limit?: number;
  readonly injection?: Injection;
  /** SIPp's own -timeout in seconds (default 30); reaching it is an error. */
  readonly timeoutSec?: number;
  /** Kill SIPp this long after start if it is still running (default timeoutSec + 15). */
  readonly outerTimeoutSec?: number;
  /** -trace_msg: keep every message sent and received (returned as `messages`). */
  readonly traceMessages?: boolean;
  /** -trace_logs: output of the scenario's <log> actions (returned as `logs`). */
  readonly traceLogs?: boolean;
  /** -set name value pairs (scenario globals, `[$name]`). */
  readonly variables?: Readonly<Record<string, string>>;
  readonly extraArgs?: readonly string[];
  /** Keep the work dir (its path is in the result) instead of deleting it. */
  readonly keepDir?: boolean;
}

export interface SippResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Killed by the outer timeout. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** -trace_err file: unexpected messages and errors ('' when none). */
  readonly errLog: string;
  /** -trace_msg file when traceMessages was set. */
  readonly messages: string;
  /** -log_file when traceLogs was set. */
  readonly logs: string;
  /** The last row of the -trace_stat CSV, by column name. */
  readonly stats: Readonly<Record<string, string>>;
  readonly successful: number;
  readonly failed: number;
  readonly localPort: number;
  readonly args: readonly string[];
  readonly dir: string;
}

function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function lastStatRow(csv: string): Record<string, string> {
  const rows = csv.split('\n').filter((l) => l.trim() !== '');
  if (rows.length < 2) return {};
  const head = (rows[0] as string).split(';');
  const last = (rows[rows.length - 1] as string).split(';');
  return Object.fromEntries(head.map((h, i) => [h, last[i] ?? '']));
}

export async function runSipp(opts: SippOptions): Promise<SippResult> {
  if (!opts.scenario === !opts.builtin) throw new Error('runSipp: give scenario or builtin');
  if (!Number.isInteger(opts.calls) || opts.calls < 1)
    throw new Error('runSipp: calls (-m) required');
  const dir = makeTempDir('sipp');
  const transport = opts.transport ?? 'u1';
  const localPort = opts.localPort ?? (await allocatePort());
  const timeoutSec = opts.timeoutSec ?? 30;
  const args: string[] = [];
  if (opts.remote) args.push(opts.remote);
  if (opts.scenario) args.push('-sf', sippScenario(opts.scenario));
  else args.push('-sn', opts.builtin as string);
  args.push('-i', '127.0.0.1', '-p', String(localPort), '-t', transport, '-nostdin');
  args.push('-m', String(opts.calls), '-timeout', `${timeoutSec}s`, '-timeout_error');
  if (opts.rate !== undefined) args.push('-r', String(opts.rate));
  if (opts.ratePeriodMs !== undefined) args.push('-rp', String(opts.ratePeriodMs));
  if (opts.limit !== undefined) args.push('-l', String(opts.limit));
  if (opts.injection) {
    writeInjectionFile(path.join(dir, 'users.csv'), opts.injection);
    args.push('-inf', 'users.csv');
  }
  args.push('-trace_err', '-error_file', 'errors.log');
  args.push('-trace_stat', '-stf', 'stats.csv', '-fd', '1');
  if (opts.traceMessages) args.push('-trace_msg', '-message_file', 'messages.log');
  if (opts.traceLogs) args.push('-trace_logs', '-log_file', 'logs.log');
  for (const [k, v] of Object.entries(opts.variables ?? {})) args.push('-set', k, v);
  args.push(...(opts.extraArgs ?? []));

  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const out = new LineCapture(4000);
  const err = new LineCapture(4000);
  out.attach(child.stdout);
  err.attach(child.stderr);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const outerMs = (opts.outerTimeoutSec ?? timeoutSec + 15) * 1000;
  const first = await Promise.race([waitForExit(child, outerMs), spawnError]);
  if (first instanceof Error) {
    removeTempDir(dir);
    throw new Error(
      `cannot run sipp (${first.message}); install it: scripts/install-test-peers.sh`,
    );
  }
  let status = first;
  let timedOut = false;
  if (!status) {
    timedOut = true;
    status = await stopChild(child, { signal: 'SIGUSR1', graceMs: 5000 });
  }
  await waitForClose(child);
  out.flush();
  err.flush();
  const stats = lastStatRow(readIfExists(path.join(dir, 'stats.csv')));
  const result: SippResult = {
    exitCode: status.code,
    signal: status.signal,
    timedOut,
    stdout: out.text(),
    stderr: err.text(),
    errLog: readIfExists(path.join(dir, 'errors.log')),
    messages: readIfExists(path.join(dir, 'messages.log')),
    logs: readIfExists(path.join(dir, 'logs.log')),
    stats,
    successful: Number(stats['SuccessfulCall(C)'] ?? NaN),
    failed: Number(stats['FailedCall(C)'] ?? NaN),
    localPort,
    args,
    dir,
  };
  if (!opts.keepDir) removeTempDir(dir);
  return result;
}

/** A readable summary of a run for assertion messages. */
export function describeSipp(r: SippResult): string {
  const screen = r.stdout.split('\n').slice(-40).join('\n');
  return [
    `sipp ${r.args.join(' ')}`,
    `exit ${r.exitCode ?? r.signal}${r.timedOut ? ' (killed by the outer timeout)' : ''}; ` +
      `successful ${r.successful}, failed ${r.failed}`,
    r.errLog ? `--- error log ---\n${r.errLog.slice(-4000)}` : '',
    r.stderr ? `--- stderr ---\n${r.stderr.slice(-2000)}` : '',
    `--- screen ---\n${screen}`,
    r.messages ? `--- messages (tail) ---\n${r.messages.slice(-6000)}` : '',
  ]
    .filter((s) => s !== '')
    .join('\n');
}

/** Throws with the run's details unless SIPp exited with `code` (default 0). */
export function assertSippExit(r: SippResult, code = 0): void {
  if (r.exitCode !== code) throw new Error(`expected sipp exit ${code}\n${describeSipp(r)}`);
}
