/**
 * The audit log (docs/architecture.md §11.4): every monitoring action — start, mode change, stop, refusal
 * with its code, hand raised and lowered — as one JSON line appended to `audit.file`,
 * flushed to disk before the caller (the API) answers, and never rewritten.
 *
 * Policies (tested in test/unit/src/monitoring/auditLog.test.ts):
 * - `open` creates the missing directories (mode `dirMode`, default 0750) and opens the
 *   file with flag 'a': existing content is never truncated or rewritten. The file gets
 *   mode `fileMode` (default 0640: it names customers and agents) whatever the umask,
 *   an existing one too. With `regularFileOnly` (the server sets it) anything but a
 *   regular file is refused (a device such as /dev/full, a FIFO): the log is re-read for
 *   `seq` and queries. It then reads the file once to continue `seq` after the highest
 *   seq of a valid line.
 * - A crash may leave a partial last line (no '\n'). It is ignored: not an entry, and the
 *   next append starts with '\n' so the new entry gets a line of its own (the fragment
 *   stays as one malformed line, skipped by `query` and by later opens). A last line that
 *   lacks only its '\n' is a whole entry and counts like any other.
 * - `append` is serialised: one append at a time, in call order, each one `write` of a
 *   whole line ending in '\n' (a short write is finished by writing the rest; we are the
 *   file's only writer), then `FileHandle.datasync`. It resolves with the entry only once
 *   both are done. `at` is the clock at the call; `seq` is given when the write starts.
 * - A failed write or sync rejects that append only; later appends still try. The file is
 *   re-measured after the failure: a line that fully landed keeps its seq (it is in the
 *   file, so the next entry takes the next one); a fragment makes the next append start
 *   on a fresh line; nothing written means the seq is reused.
 * - `query` streams the file line by line up to the bytes of completed writes (so never an
 *   append in flight), skips malformed lines, and returns the matching entries oldest
 *   first. With more than `limit` matches (default 1000) it returns the NEWEST `limit`
 *   (still oldest first): a dashboard asking for the recent history gets it; page backward
 *   by narrowing `since` if you need older ones.
 * - `close` (idempotent: every call returns the same promise) refuses new appends
 *   (InvalidStateError), waits for the pending ones, then closes the handle. `query` after
 *   close rejects likewise.
 */
import { createReadStream } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidStateError } from '../../media/engine/index.js';
import { DEFAULT_DIR_MODE, DEFAULT_FILE_MODE, ensureDir } from '../util/fileModes.js';

export type AuditAction =
  'start' | 'mode-change' | 'stop' | 'refusal' | 'hand-raised' | 'hand-lowered';

export type AuditTrigger = 'feature-code' | 'dtmf' | 'api' | 'yeastar' | 'cti' | 'system';

export interface AuditEntry {
  /** ISO time of the append call (the log's clock). */
  at: string;
  /** 1, 2, 3… continuing after the entries already in the file at open. */
  seq: number;
  action: AuditAction;
  trigger: AuditTrigger;
  /** Who asked: an extension or an API token name. */
  actor: string | null;
  supervisor: string | null;
  agent: string | null;
  callId: string | null;
  sessionId: string | null;
  /** The mode started or changed to. */
  mode: string | null;
  /** The previous mode, for a mode change. */
  from: string | null;
  /** A refusal's code (RefusalCode) or a stop's reason (MonitorEndReason). */
  reason: string | null;
}

export type AuditRecord = Omit<AuditEntry, 'at' | 'seq'>;

export interface AuditLogOptions {
  /** The clock giving `at` (default: the system clock). */
  now?: () => Date;
  /** Mode of the file (default 0640), applied whatever the umask. */
  fileMode?: number;
  /** Mode of the directories created for it (default 0750). */
  dirMode?: number;
  /** Refuse anything but a regular file (default false). */
  regularFileOnly?: boolean;
}

export interface AuditQuery {
  /** Only entries at or after this ISO time. */
  since?: string;
  supervisor?: string;
  agent?: string;
  /** At most this many entries, the newest ones (default DEFAULT_AUDIT_QUERY_LIMIT). */
  limit?: number;
}

export const DEFAULT_AUDIT_QUERY_LIMIT = 1000;

/** A line longer than this is not an entry: it is skipped without being buffered whole. */
const MAX_LINE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

const ACTIONS: ReadonlySet<string> = new Set<AuditAction>([
  'start',
  'mode-change',
  'stop',
  'refusal',
  'hand-raised',
  'hand-lowered',
]);
const TRIGGERS: ReadonlySet<string> = new Set<AuditTrigger>([
  'feature-code',
  'dtmf',
  'api',
  'yeastar',
  'cti',
  'system',
]);
const NULLABLE_FIELDS = [
  'actor',
  'supervisor',
  'agent',
  'callId',
  'sessionId',
  'mode',
  'from',
  'reason',
] as const;

export class AuditLog {
  private seq: number;
  /** Bytes of the file known written: query reads no further. */
  private size: number;
  /** The file does not end in '\n' (a crash's fragment, or a failed write's). */
  private needsNewline: boolean;
  private tail: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly now: () => Date,
    scan: FileScan,
  ) {
    this.seq = scan.lastSeq;
    this.size = scan.size;
    this.needsNewline = !scan.terminated;
  }

  static async open(path: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const fileMode = options.fileMode ?? DEFAULT_FILE_MODE;
    await ensureDir(dirname(path), options.dirMode ?? DEFAULT_DIR_MODE);
    const handle = await openFile(path, 'a', fileMode);
    try {
      const stats = await handle.stat();
      if (stats.isFile()) {
        await handle.chmod(fileMode);
      } else if (options.regularFileOnly === true) {
        throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
      }
      const { size } = stats;
      const scan: FileScan = { size, lastSeq: 0, terminated: true };
      for await (const line of readLines(path, size)) {
        const entry = parseEntry(line.text);
        if (entry !== undefined) scan.lastSeq = Math.max(scan.lastSeq, entry.seq);
        scan.terminated = line.terminated;
      }
      return new AuditLog(path, handle, options.now ?? (() => new Date()), scan);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Appends one entry; resolves once its line is written and flushed to disk. */
  append(record: AuditRecord): Promise<AuditEntry> {
    if (this.closing !== undefined) {
      return Promise.reject(new InvalidStateError(`audit log ${this.path} is closed`));
    }
    const at = this.now().toISOString();
    const result = this.tail.then(() => this.write(at, record));
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Matching entries, oldest first; the newest `limit` of them if there are more. */
  async query(filter: AuditQuery = {}): Promise<AuditEntry[]> {
    if (this.closing !== undefined) {
      throw new InvalidStateError(`audit log ${this.path} is closed`);
    }
    const since = filter.since === undefined ? undefined : Date.parse(filter.since);
    if (since !== undefined && Number.isNaN(since)) {
      throw new RangeError(`since is not an ISO time: ${filter.since}`);
    }
    const limit = filter.limit ?? DEFAULT_AUDIT_QUERY_LIMIT;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`limit must be a non-negative integer, not ${limit}`);
    }
    const found: AuditEntry[] = [];
    if (limit === 0) return found;
    for await (const line of readLines(this.path, this.size)) {
      const entry = parseEntry(line.text);
      if (entry === undefined) continue;
      if (since !== undefined && !(Date.parse(entry.at) >= since)) continue;
      if (filter.supervisor !== undefined && entry.supervisor !== filter.supervisor) continue;
      if (filter.agent !== undefined && entry.agent !== filter.agent) continue;
      found.push(entry);
      // Keep memory bounded: drop the oldest once well past the limit.
      if (found.length >= 2 * limit) found.splice(0, found.length - limit);
    }
    return found.length > limit ? found.slice(found.length - limit) : found;
  }

  /** Refuses new appends, waits for the pending ones, closes the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.tail.then(() => this.handle.close());
    return this.closing;
  }

  private async write(at: string, record: AuditRecord): Promise<AuditEntry> {
    const entry: AuditEntry = {
      at,
      seq: this.seq + 1,
      action: record.action,
      trigger: record.trigger,
      actor: record.actor,
      supervisor: record.supervisor,
      agent: record.agent,
      callId: record.callId,
      sessionId: record.sessionId,
      mode: record.mode,
      from: record.from,
      reason: record.reason,
    };
    const line = Buffer.from(`${this.needsNewline ? '\n' : ''}${JSON.stringify(entry)}\n`);
    try {
      let written = 0;
      while (written < line.length) {
        const { bytesWritten } = await this.handle.write(line, written, line.length - written);
        written += bytesWritten;
      }
      await this.handle.datasync();
    } catch (err) {
      await this.resync(line.length);
      throw err;
    }
    this.seq = entry.seq;
    this.size += line.length;
    this.needsNewline = false;
    return entry;
  }

  /** After a failed append: learns from the file's size what of `lineBytes` landed. */
  private async resync(lineBytes: number): Promise<void> {
    let size: number;
    try {
      ({ size } = await this.handle.stat());
    } catch {
      // Unknown: assume the worst of both (a gap in seq beats a duplicate; a blank line
      // beats two entries on one line).
      this.seq += 1;
      this.needsNewline = true;
      return;
    }
    if (size >= this.size + lineBytes) {
      this.seq += 1;
      this.needsNewline = false;
    } else if (size > this.size) {
      this.needsNewline = true;
    }
    this.size = size;
  }
}

interface FileScan {
  size: number;
  lastSeq: number;
  /** The last line ends in '\n' (or the file is empty). */
  terminated: boolean;
}

interface Line {
  text: string;
  terminated: boolean;
}

/** The lines of the file's first `end` bytes (an overlong line comes back empty). */
async function* readLines(path: string, end: number): AsyncGenerator<Line> {
  if (end === 0) return;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  const take = (): string => {
    const text = overlong ? '' : Buffer.concat(pending, pendingBytes).toString('utf8');
    pending = [];
    pendingBytes = 0;
    overlong = false;
    return text;
  };
  for await (const chunk of createReadStream(path, { start: 0, end: end - 1 })) {
    const buf = chunk as Buffer;
    let from = 0;
    for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, from)) {
      if (!overlong) pending.push(buf.subarray(from, nl));
      pendingBytes += nl - from;
      from = nl + 1;
      yield { text: take(), terminated: true };
    }
    if (from < buf.length && !overlong) {
      pending.push(buf.subarray(from));
      pendingBytes += buf.length - from;
      if (pendingBytes > MAX_LINE_BYTES) {
        overlong = true;
        pending = [];
      }
    }
  }
  if (pendingBytes > 0 || overlong) yield { text: take(), terminated: false };
}

/** The entry on a line, or undefined for a blank, partial or otherwise malformed one. */
function parseEntry(text: string): AuditEntry | undefined {
  if (text.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // a crash's fragment: skipped by policy (see the header)
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) return undefined;
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 1) return undefined;
  if (typeof e.action !== 'string' || !ACTIONS.has(e.action)) return undefined;
  if (typeof e.trigger !== 'string' || !TRIGGERS.has(e.trigger)) return undefined;
  for (const field of NULLABLE_FIELDS) {
    if (e[field] !== null && typeof e[field] !== 'string') return undefined;
  }
  return value as AuditEntry;
}
