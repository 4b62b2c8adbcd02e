/**
 * Bookkeeping shared by the helpers that start child processes (server, SIPp, baresip):
 * a last-resort cleanup when a test file ends without stopping them (a failed beforeAll,
 * a crashed test), temp directories, and bounded log capture. Under jest the cleanup runs
 * in the test environment's teardown (test/setup/environment.mjs), after the file's last
 * hook; elsewhere at process exit.
 *
 * Children are killed by their own PID (or, for children started in their own process
 * group such as `timeout … baresip`, by that group's id) — never by name.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Tracked {
  readonly child: ChildProcess;
  /** Kill the process group (-pid) instead of the pid. */
  readonly group: boolean;
}

const children = new Set<Tracked>();
const closed = new WeakSet<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

/** The global test/setup/environment.mjs calls once the test file is done. */
const CLEANUP_GLOBAL = '__callwatchTestCleanup';

/** Kills every child still running and removes every temp directory still there. */
function cleanUp(): void {
  for (const t of children) killNow(t.child, 'SIGKILL', t.group);
  children.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Jest's `process` is a copy whose 'exit' listeners never run: its environment calls
  // this global instead. Outside jest (a script using the helpers), process exit.
  (globalThis as Record<string, unknown>)[CLEANUP_GLOBAL] = cleanUp;
  process.once('exit', cleanUp);
}

function killNow(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(group ? -child.pid : child.pid, signal);
  } catch {
    // already gone
  }
}

/** Remember a child so it is killed if the test file ends first. */
export function trackChild(child: ChildProcess, group = false): void {
  hookExit();
  const t = { child, group };
  children.add(t);
  child.once('exit', () => children.delete(t));
  child.once('close', () => closed.add(child));
}

/**
 * Resolves once the child exited and its stdio streams closed (so every line of output
 * has been read), or after `timeoutMs`. Only for children passed to trackChild.
 */
export function waitForClose(child: ChildProcess, timeoutMs = 2000): Promise<void> {
  if (closed.has(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      child.off('close', done);
      resolve();
    }
    child.once('close', done);
  });
}

/** Sends `signal` to a tracked child (or its group) if it still runs. */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals, group = false): void {
  killNow(child, signal, group);
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves when the child exits (immediately if it already has), or with null on timeout. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<ExitStatus | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(null);
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      resolve({ code, signal });
    };
    child.once('exit', onExit);
  });
}

/**
 * Stops a child: `signal` (default SIGTERM), wait up to `graceMs`, then SIGKILL (and
 * wait for that).
 * Returns the exit status and whether SIGKILL was needed.
 */
export async function stopChild(
  child: ChildProcess,
  opts: { signal?: NodeJS.Signals | null; graceMs?: number; group?: boolean } = {},
): Promise<ExitStatus & { killed: boolean }> {
  const group = opts.group ?? false;
  // signal null: the child was already asked to exit some other way; just wait.
  if (opts.signal !== null) signalChild(child, opts.signal ?? 'SIGTERM', group);
  const first = await waitForExit(child, opts.graceMs ?? 10000);
  if (first) return { ...first, killed: false };
  signalChild(child, 'SIGKILL', group);
  const second = await waitForExit(child, 5000);
  return { code: second?.code ?? null, signal: second?.signal ?? 'SIGKILL', killed: true };
}

/** A fresh temp directory, removed by `removeTempDir` or when the test file ends at the latest. */
export function makeTempDir(prefix: string): string {
  hookExit();
  const dir = mkdtempSync(path.join(os.tmpdir(), `callwatch-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/**
 * Collects a stream's text, split into lines, keeping at most `maxLines` (the oldest are
 * dropped and counted) so a chatty child cannot exhaust memory. Reading the pipe also
 * keeps the child from blocking on a full pipe.
 */
export class LineCapture {
  private readonly lines: string[] = [];
  private partial = '';
  private dropped = 0;
  private readonly listeners = new Set<(line: string) => void>();

  constructor(private readonly maxLines = 20000) {}

  attach(stream: NodeJS.ReadableStream | null): void {
    if (!stream) return;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.push(chunk));
    stream.on('end', () => this.flush());
  }

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.add(p.replace(/\r$/, ''));
  }

  flush(): void {
    if (this.partial !== '') this.add(this.partial);
    this.partial = '';
  }

  onLine(fn: (line: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  all(): string[] {
    return this.partial === '' ? [...this.lines] : [...this.lines, this.partial];
  }

  text(): string {
    const head = this.dropped > 0 ? `[… ${this.dropped} earlier lines dropped]\n` : '';
    return head + this.all().join('\n');
  }

  /** The last `n` lines as text, for error messages. */
  tail(n = 60): string {
    return this.all().slice(-n).join('\n');
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.maxLines + (this.maxLines >> 2)) {
      const excess = this.lines.length - this.maxLines;
      this.lines.splice(0, excess);
      this.dropped += excess;
    }
    for (const fn of this.listeners) fn(line);
  }
}
