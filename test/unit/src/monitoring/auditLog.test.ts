import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidStateError } from '../../../../media/engine/index.js';
import {
  AuditLog,
  type AuditEntry,
  type AuditRecord,
} from '../../../../src/monitoring/auditLog.js';

/** A clock starting at 2025-01-01T00:00:00Z that advances one second per reading. */
function steppingClock(start = Date.UTC(2025, 0, 1)): () => Date {
  let t = start - 1000;
  return () => new Date((t += 1000));
}

function record(over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    action: 'start',
    trigger: 'api',
    actor: 'demo',
    supervisor: '1005',
    agent: '1001',
    callId: 'call-1',
    sessionId: 'mon-1',
    mode: 'listen',
    from: null,
    reason: null,
    ...over,
  };
}

async function fileLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

let dir: string;
let file: string;
const logs: AuditLog[] = [];

async function openLog(path = file, now = steppingClock()): Promise<AuditLog> {
  const log = await AuditLog.open(path, { now });
  logs.push(log);
  return log;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audit-'));
  file = join(dir, 'audit', 'monitoring.jsonl');
});

afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('AuditLog file modes', () => {
  it('creates the file 0640 and its folders 0750 whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      await openLog(join(dir, 'x', 'audit.jsonl'));
    } finally {
      process.umask(old);
    }
    expect((await stat(join(dir, 'x', 'audit.jsonl'))).mode & 0o777).toBe(0o640);
    expect((await stat(join(dir, 'x'))).mode & 0o777).toBe(0o750);
  });

  it('applies fileMode to an existing file too (a 0644 log from before)', async () => {
    const path = join(dir, 'old.jsonl');
    await writeFile(path, '', { mode: 0o644 });
    const log = await AuditLog.open(path, { fileMode: 0o600 });
    logs.push(log);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('with regularFileOnly, refuses a device such as /dev/full', async () => {
    await expect(AuditLog.open('/dev/full', { regularFileOnly: true })).rejects.toThrow(
      '/dev/full is not a regular file',
    );
  });
});

describe('AuditLog append', () => {
  it('creates the directory and writes entries in order, seq 1..n, one JSON line each', async () => {
    const log = await openLog(join(dir, 'a', 'b', 'c', 'audit.jsonl'));
    const e1 = await log.append(record());
    const e2 = await log.append(
      record({ action: 'mode-change', trigger: 'dtmf', mode: 'whisper', from: 'listen' }),
    );
    const e3 = await log.append(record({ action: 'stop', reason: 'supervisor-hangup' }));
    expect([e1.seq, e2.seq, e3.seq]).toEqual([1, 2, 3]);
    expect(e1).toEqual({ at: '2025-01-01T00:00:00.000Z', seq: 1, ...record() });
    expect(e2.at).toBe('2025-01-01T00:00:01.000Z');
    expect(await fileLines(log.path)).toEqual([e1, e2, e3].map((e) => JSON.stringify(e)));
  });

  it('writes only the entry fields, in a fixed order', async () => {
    const log = await openLog();
    const extra = { ...record({ action: 'refusal', reason: 'monitor-busy' }), secret: 'x' };
    const entry = await log.append(extra);
    const [line] = await fileLines(file);
    expect(Object.keys(JSON.parse(line!))).toEqual([
      'at',
      'seq',
      'action',
      'trigger',
      'actor',
      'supervisor',
      'agent',
      'callId',
      'sessionId',
      'mode',
      'from',
      'reason',
    ]);
    expect(entry).not.toHaveProperty('secret');
  });

  it('keeps call order under 50 concurrent appends, without interleaving', async () => {
    const log = await openLog();
    const entries = await Promise.all(
      Array.from({ length: 50 }, (_, i) => log.append(record({ callId: `call-${i}` }))),
    );
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(entries.map((e) => e.callId)).toEqual(Array.from({ length: 50 }, (_, i) => `call-${i}`));
    const lines = await fileLines(file);
    expect(lines).toHaveLength(50);
    expect(lines.map((l) => JSON.parse(l) as AuditEntry)).toEqual(entries);
  });

  it('continues seq after the entries already in the file when reopened', async () => {
    const first = await openLog();
    await first.append(record());
    await first.append(record({ action: 'stop', reason: 'call-ended' }));
    await first.close();
    const second = await openLog();
    const e3 = await second.append(record({ action: 'hand-raised', trigger: 'dtmf' }));
    expect(e3.seq).toBe(3);
    expect((await second.query({})).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('opens in append mode: content already in the file is untouched', async () => {
    const before = 'not json at all\n{"at":"x"}\n';
    await writeFile(join(dir, 'existing.jsonl'), before);
    const log = await openLog(join(dir, 'existing.jsonl'));
    const entry = await log.append(record());
    expect(entry.seq).toBe(1);
    expect(await readFile(log.path, 'utf8')).toBe(`${before}${JSON.stringify(entry)}\n`);
    expect(await log.query({})).toEqual([entry]);
  });

  it('skips a crash-truncated last line and starts the next entry on a fresh line', async () => {
    const first = await openLog();
    const e1 = await first.append(record());
    const e2 = await first.append(record({ action: 'stop', reason: 'call-ended' }));
    await first.close();
    // The crash: half of a third line reached the file.
    const half = JSON.stringify({ ...e2, seq: 3 }).slice(0, 40);
    await appendFile(file, half);

    const second = await openLog();
    expect(await second.query({})).toEqual([e1, e2]);
    const e3 = await second.append(record({ action: 'refusal', reason: 'no-call' }));
    expect(e3.seq).toBe(3);
    expect(await fileLines(file)).toEqual([
      JSON.stringify(e1),
      JSON.stringify(e2),
      half,
      JSON.stringify(e3),
    ]);
    expect(await second.query({})).toEqual([e1, e2, e3]);

    // And the fragment, now a line of its own, stays skipped after another reopen.
    await second.close();
    const third = await openLog();
    expect((await third.append(record())).seq).toBe(4);
  });

  it('counts a last line that lacks only its newline as an entry', async () => {
    const first = await openLog();
    const e1 = await first.append(record());
    await first.close();
    await writeFile(file, (await readFile(file, 'utf8')).slice(0, -1));
    const second = await openLog();
    expect(await second.query({})).toEqual([e1]);
    const e2 = await second.append(record());
    expect(e2.seq).toBe(2);
    expect(await fileLines(file)).toEqual([JSON.stringify(e1), JSON.stringify(e2)]);
  });

  it('skips malformed and overlong lines in the middle of the file', async () => {
    const log = await openLog();
    const e1 = await log.append(record());
    await log.close();
    await appendFile(file, `\n[1,2]\n{"seq":9}\n${'x'.repeat(200_000)}\nnull\n`);
    const reopened = await openLog();
    const e2 = await reopened.append(record({ action: 'hand-lowered' }));
    expect(e2.seq).toBe(2);
    expect(await reopened.query({})).toEqual([e1, e2]);
  });

  // /dev/full (Linux, which CI is): every write fails with ENOSPC.
  it('rejects an append whose write fails, and later appends still try', async () => {
    const log = await openLog('/dev/full'); // every write fails with ENOSPC
    await expect(log.append(record())).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(log.append(record())).rejects.toMatchObject({ code: 'ENOSPC' });
    await log.close();
  });
});

describe('AuditLog query', () => {
  let log: AuditLog;
  let all: AuditEntry[];

  beforeEach(async () => {
    log = await openLog();
    all = [];
    for (const [supervisor, agent] of [
      ['1005', '1001'],
      ['1005', '1002'],
      ['1006', '1001'],
      ['1005', '1001'],
      ['1006', '1003'],
    ] as const) {
      all.push(await log.append(record({ supervisor, agent })));
    }
  });

  it('returns every entry oldest first', async () => {
    expect(await log.query({})).toEqual(all);
    expect(await log.query()).toEqual(all);
  });

  it('filters by since (inclusive), supervisor and agent', async () => {
    expect(await log.query({ since: '2025-01-01T00:00:02.000Z' })).toEqual(all.slice(2));
    expect(await log.query({ since: '2025-01-01T01:00:00+01:00' })).toEqual(all); // same instant as the first
    expect(await log.query({ since: '2025-01-02T00:00:00Z' })).toEqual([]);
    expect(await log.query({ supervisor: '1005' })).toEqual([all[0], all[1], all[3]]);
    expect(await log.query({ agent: '1001' })).toEqual([all[0], all[2], all[3]]);
    expect(
      await log.query({ supervisor: '1005', agent: '1001', since: '2025-01-01T00:00:01Z' }),
    ).toEqual([all[3]]);
  });

  it('keeps the newest `limit` matches, still oldest first', async () => {
    expect(await log.query({ limit: 2 })).toEqual([all[3], all[4]]);
    expect(await log.query({ supervisor: '1005', limit: 1 })).toEqual([all[3]]);
    expect(await log.query({ limit: 0 })).toEqual([]);
    expect(await log.query({ limit: 10 })).toEqual(all);
  });

  it('keeps the newest `limit` of many entries', async () => {
    for (let i = 0; i < 30; i++) all.push(await log.append(record()));
    expect(await log.query({ limit: 7 })).toEqual(all.slice(-7));
  });

  it('refuses a since that is not a time and a bad limit', async () => {
    await expect(log.query({ since: 'yesterday' })).rejects.toBeInstanceOf(RangeError);
    await expect(log.query({ limit: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(log.query({ limit: 1.5 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('AuditLog close', () => {
  it('is idempotent, waits for pending appends, then refuses', async () => {
    const log = await openLog();
    const pending = [log.append(record()), log.append(record())];
    const closing = log.close();
    expect(log.close()).toBe(closing);
    await expect(log.append(record())).rejects.toBeInstanceOf(InvalidStateError);
    await closing;
    expect((await Promise.all(pending)).map((e) => e.seq)).toEqual([1, 2]);
    expect(await fileLines(file)).toHaveLength(2);
    await log.close();
    await expect(log.append(record())).rejects.toBeInstanceOf(InvalidStateError);
    await expect(log.query({})).rejects.toBeInstanceOf(InvalidStateError);
    expect(log.closed).toBe(true);
  });
});
