import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordingSummary } from '../../../../media/engine/index.js';
import { configSchema, type Config } from '../../../../src/config/schema.js';
import type { CallRecord } from '../../../../src/calls/callRecord.js';
import type { Logger } from '../../../../src/logging.js';
import {
  RecordingTap,
  rolesOf,
  safeName,
  type RecordedCall,
  type SmallFileWriter,
} from '../../../../src/recording/recordingTap.js';

const record = (direction: CallRecord['direction']): CallRecord => ({
  id: 'c1',
  caller: '1001',
  callee: '1002',
  direction,
  state: 'answered',
  startedAt: 0,
});

function tap(config: Record<string, unknown>): RecordingTap {
  const parsed: Config = configSchema.parse(config);
  return new RecordingTap(parsed, {} as Logger, 0);
}

describe('rolesOf', () => {
  it('outbound: the caller (an extension) is the agent', () => {
    expect(rolesOf(record('outbound'))).toEqual({ a: 'agent', b: 'customer' });
  });
  it('inbound: the callee is the agent', () => {
    expect(rolesOf(record('inbound'))).toEqual({ a: 'customer', b: 'agent' });
  });
  it('internal: the callee is the agent', () => {
    expect(rolesOf(record('internal'))).toEqual({ a: 'customer', b: 'agent' });
  });
});

describe('safeName', () => {
  it('keeps letters, digits, dot, dash and underscore', () => {
    expect(safeName('abc-DEF_012.x')).toBe('abc-DEF_012.x');
  });
  it('replaces everything else (a Call-ID host, slashes, spaces, quotes)', () => {
    expect(safeName('a1b2@127.0.0.1')).toBe('a1b2_127.0.0.1');
    expect(safeName('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(safeName('x y"z;$(rm)')).toBe('x_y_z___rm_');
  });
  it('replaces non-ASCII characters', () => {
    expect(safeName('appel-é')).toBe('appel-_');
  });
  it('cuts to 80 characters', () => {
    expect(safeName('a'.repeat(200))).toBe('a'.repeat(80));
  });
  it('never yields a path separator', () => {
    expect(safeName('/\\:*?<>|')).not.toMatch(/[/\\]/);
  });
});

describe('RecordingTap.records', () => {
  const extensions = [
    { number: '1001', password: 'pw1001', record: false },
    { number: '1002', password: 'pw1002', record: true },
    { number: '1003', password: 'pw1003' },
  ];

  it('recording enabled: every agent extension but those with record: false', () => {
    const t = tap({ extensions, recording: { enabled: true } });
    expect(t.records('1001')).toBe(false);
    expect(t.records('1002')).toBe(true);
    expect(t.records('1003')).toBe(true);
  });

  it('recording disabled: only extensions with record: true', () => {
    const t = tap({ extensions, recording: { enabled: false } });
    expect(t.records('1001')).toBe(false);
    expect(t.records('1002')).toBe(true);
    expect(t.records('1003')).toBe(false);
  });

  it('no agent extension (a trunk on both sides) or an unknown one: recording.enabled', () => {
    expect(tap({ extensions, recording: { enabled: true } }).records(undefined)).toBe(true);
    expect(tap({ extensions, recording: { enabled: false } }).records(undefined)).toBe(false);
    expect(tap({ extensions, recording: { enabled: true } }).records('9999')).toBe(true);
  });

  it('no recording is active before any call', () => {
    expect(tap({ extensions }).active).toBe(0);
  });
});

describe('RecordingTap.failures', () => {
  interface FakeMedia {
    setRoles(): Promise<void>;
    startRecording(): Promise<void>;
    ended: Promise<RecordingSummary | null>;
  }
  const call = (media: FakeMedia): RecordedCall =>
    ({
      record: { ...record('internal'), answeredAt: 1 },
      media,
      extensions: { a: '1001', b: '1002' },
    }) as unknown as RecordedCall;
  const media = (
    summary: RecordingSummary | null,
    start: () => Promise<void> = async () => undefined,
  ): FakeMedia => ({
    setRoles: async () => undefined,
    startRecording: start,
    ended: Promise.resolve(summary),
  });
  const logger = { info: () => undefined, error: () => undefined } as unknown as Logger;
  const tapIn = (directory: string, files?: SmallFileWriter) =>
    new RecordingTap(
      configSchema.parse({
        extensions: [
          { number: '1001', password: 'pw1001' },
          { number: '1002', password: 'pw1002' },
        ],
        recording: { enabled: true, directory },
      }),
      logger,
      0,
      files,
    );
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tap-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a recording that starts and ends cleanly is no failure', async () => {
    const t = tapIn(dir);
    const c = call(
      media({ path: 'x.wav', bytes: 320, frames: 1, error: null, format: 'wav', sampleRate: 8000 }),
    );
    await t.answered(c);
    expect(t.active).toBe(1);
    await t.ended(c, []);
    expect(t.failures).toEqual({ start: 0 });
  });

  it('counts a start failure when the directory cannot be made', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const t = tapIn(join(dir, 'file', 'recordings'));
    await expect(t.answered(call(media(null)))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(t.failures).toEqual({ start: 1 });
    expect(t.active).toBe(0);
  });

  it('counts a start failure when the media worker refuses the file', async () => {
    const t = tapIn(dir);
    const refused = media(null, async () => {
      throw new Error('EEXIST');
    });
    await expect(t.answered(call(refused))).rejects.toThrow('EEXIST');
    expect(t.failures).toEqual({ start: 1 });
  });

  // The media worker counts write failures as they happen (the recording-errors metric);
  // the tap only records them in the sidecar, so nothing is counted twice.
  it('records a write failure in the sidecar without counting it again', async () => {
    const t = tapIn(dir);
    const c = call(
      media({
        path: 'x.wav',
        bytes: 320,
        frames: 1,
        error: 'no space left',
        format: 'wav',
        sampleRate: 8000,
      }),
    );
    await t.answered(c);
    await t.ended(c, []);
    expect(t.failures).toEqual({ start: 0 });
    const sidecar = (await readdir(dir)).find((f) => f.endsWith('.json'))!;
    expect(JSON.parse(await readFile(join(dir, sidecar), 'utf8'))).toMatchObject({
      error: 'no space left',
    });
  });

  const refusing = (code: string): SmallFileWriter & { paths: string[] } => {
    const paths: string[] = [];
    return {
      paths,
      writeSmallFile: async (path) => {
        paths.push(path);
        throw Object.assign(new Error(code), { code });
      },
    };
  };

  // The engine closed at shutdown before the call's end was written, or its writer thread
  // died: the sidecar is written on this thread instead.
  it.each(['ERR_INVALID_STATE', 'ERR_RECORDING_WRITER_GONE'])(
    'writes the sidecar itself when the writer thread is not there (%s)',
    async (code) => {
      const files = refusing(code);
      const t = tapIn(dir, files);
      const c = call(
        media({ path: 'x.wav', bytes: 9, frames: 1, error: null, format: 'wav', sampleRate: 8000 }),
      );
      await t.answered(c);
      await t.ended(c, []);
      expect(files.paths).toHaveLength(2);
      expect(files.paths[0]).toMatch(/\.json$/);
      const names = await readdir(dir);
      expect(names).toEqual([expect.stringMatching(/\.json$/)]);
      expect(JSON.parse(await readFile(join(dir, names[0]!), 'utf8'))).toMatchObject({
        audioBytes: 9,
      });
    },
  );

  // A hang-up right after the answer: the call's end reaches the tap while the worker is
  // still starting the file.
  it('a call that ends while its recording starts gets the end sidecar, and is not kept', async () => {
    const t = tapIn(dir);
    let release: () => void = () => undefined;
    const c = call(
      media(
        { path: 'x.wav', bytes: 640, frames: 2, error: null, format: 'wav', sampleRate: 8000 },
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      ),
    );
    (c.record as { endedAt?: number }).endedAt = 2;
    const answering = t.answered(c);
    const ending = t.ended(c, []);
    await new Promise((r) => setImmediate(r));
    release();
    await answering;
    await ending;
    expect(t.active).toBe(0);
    const names = await readdir(dir);
    expect(names).toEqual([expect.stringMatching(/\.json$/)]);
    expect(JSON.parse(await readFile(join(dir, names[0]!), 'utf8'))).toMatchObject({
      audioBytes: 640,
      endedAt: new Date(2).toISOString(),
    });
  });

  it('a call that ends while its recording fails to start leaves nothing behind', async () => {
    const t = tapIn(dir);
    let refuse: () => void = () => undefined;
    const c = call(
      media(
        null,
        () =>
          new Promise<void>((_, reject) => {
            refuse = () => reject(new Error('room closed'));
          }),
      ),
    );
    const answering = t.answered(c);
    const ending = t.ended(c, []);
    await new Promise((r) => setImmediate(r));
    refuse();
    await expect(answering).rejects.toThrow('room closed');
    await ending;
    expect(t.active).toBe(0);
    expect(t.failures).toEqual({ start: 1 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('drain waits for the end sidecars begun before it, and says when it ran out of time', async () => {
    let write: () => void = () => undefined;
    const held: SmallFileWriter = {
      writeSmallFile: async (path, text) => {
        if (!text.includes('"audioBytes": 9')) return writeFile(path, text);
        await new Promise<void>((resolve) => {
          write = resolve;
        });
        await writeFile(path, text);
      },
    };
    const t = tapIn(dir, held);
    const c = call(
      media({ path: 'x.wav', bytes: 9, frames: 1, error: null, format: 'wav', sampleRate: 8000 }),
    );
    await t.answered(c);
    void t.ended(c, []);
    expect(await t.drain(20)).toBe(false);
    const draining = t.drain(5000);
    await new Promise((r) => setTimeout(r, 10));
    write();
    expect(await draining).toBe(true);
    const names = await readdir(dir);
    expect(JSON.parse(await readFile(join(dir, names[0]!), 'utf8'))).toMatchObject({
      audioBytes: 9,
    });
    expect(await t.drain(20)).toBe(true);
  });

  it('passes any other error of the writer on (ENOSPC: no sidecar)', async () => {
    const t = tapIn(dir, refusing('ENOSPC'));
    await expect(t.answered(call(media(null)))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(t.failures).toEqual({ start: 1 });
    expect(await readdir(dir)).toEqual([]);
  });
});
