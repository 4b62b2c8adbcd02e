/**
 * The recording writer thread as the engine runs it: recordings and sidecars written by it
 * (its CPU in its stats), a client port that closes with files open, close with ops
 * pending, and a writer thread that dies (open recordings fail, calls go on, a new writer
 * takes the next recordings).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import { readWavHeader } from '../../../media/recording/wavHeader.js';
import { WriterClient } from '../../../media/recording/writer/client.js';
import { RecordingWriter } from '../../../media/recording/writer/recordingWriter.js';
import { WRITER_NICE } from '../../../media/recording/writer/threadPriority.js';
import { WRITER_SCRIPT, startEngine } from './engineFixture.js';

const CRASHING_WRITER = fileURLToPath(new URL('./crashingWriter.mjs', import.meta.url));
/** The file that makes crashingWriter.mjs exit its thread. */
const CRASH_TRIGGER = join(tmpdir(), `callwatch-crash-writer-${process.pid}`);

let engine: MediaEngine | undefined;
let writer: RecordingWriter | undefined;
const dirs: string[] = [];

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'callwatch-recwriter-'));
  dirs.push(dir);
  return dir;
}

async function until<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await writer?.close();
  writer = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  rmSync(CRASH_TRIGGER, { force: true });
});

describe('the recording writer thread', () => {
  it('writes the engine’s recordings and sidecars, and reports its own CPU', async () => {
    engine = (await startEngine({ statsIntervalMs: 0 })).engine;
    const dir = tmp();
    const room = await engine.createRoom();
    await room.startRecording({ path: join(dir, 'a.wav'), channels: 2, format: 'wav' });
    const summary = await room.close();
    expect(summary?.error).toBeNull();
    const wav = readFileSync(join(dir, 'a.wav'));
    expect(readWavHeader(wav).dataBytes).toBe(wav.length - 44);
    expect(statSync(join(dir, 'a.wav')).mode & 0o777).toBe(0o640);
    await engine.writeSmallFile(join(dir, 'a.json'), '{"ok":true}\n', 0o640);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"ok":true}\n');
    const stats = await engine.getRecordingWriterStats();
    // create, header write, close; the sidecar. The recording's timeline starts when the
    // worker takes the command, before its create (held up to a writer batch, §7.6), so
    // a room with no legs has recorded that long of silence by the close: one write more.
    expect(stats?.ops).toBe(summary!.frames > 0 ? 5 : 4);
    expect(stats?.openFiles).toBe(0);
    expect(stats?.errors).toBe(0);
    expect(stats?.cpuMs).toBeGreaterThan(0);
  });

  it('runs nicer than the rest of the process (§7.6), which keeps its own nice value', async () => {
    const before = getPriority(process.pid);
    writer = await RecordingWriter.start(WRITER_SCRIPT, () => undefined);
    expect((await writer.stats())?.nice).toBe(Math.min(19, before + WRITER_NICE));
    expect(getPriority(process.pid)).toBe(before);
  });

  it('closes the files of a client whose port closes mid-write', async () => {
    writer = await RecordingWriter.start(WRITER_SCRIPT, () => undefined);
    const dir = tmp();
    const client = new WriterClient(writer.channel('test'));
    const file = await client.create(join(dir, 'f'), 0o640);
    await client.create(join(dir, 'g'), 0o640);
    expect((await writer.stats())?.openFiles).toBe(2);
    const write = file.write(Buffer.alloc(64 * 1024, 1), 0, 64 * 1024, 0);
    client.close(); // as when a media worker dies: the batch may or may not have gone
    await expect(write).rejects.toMatchObject({ code: 'ERR_RECORDING_WRITER_GONE' });
    await until(
      () => writer!.stats(),
      (s) => s?.openFiles === 0,
    );
  });

  it('closes every file at close, and a client’s pending ops settle', async () => {
    writer = await RecordingWriter.start(WRITER_SCRIPT, () => undefined);
    const dir = tmp();
    const client = new WriterClient(writer.channel('test'));
    const file = await client.create(join(dir, 'f'), 0o640);
    await file.write(Buffer.from('kept'), 0, 4, 0);
    const late = Promise.allSettled([file.write(Buffer.from('late'), 0, 4, 4)]);
    await writer.close();
    // Written before the close, or refused: never left pending.
    const [settled] = await late;
    if (settled!.status === 'rejected') {
      expect(settled!.reason).toMatchObject({ code: 'ERR_RECORDING_WRITER_GONE' });
    }
    expect(readFileSync(join(dir, 'f'), 'latin1')).toMatch(/^kept(late)?$/);
    await expect(client.create(join(dir, 'h'), 0o640)).rejects.toMatchObject({
      code: 'ERR_RECORDING_WRITER_GONE',
    });
    expect(await writer.stats()).toBeNull();
  });

  it('a writer that dies fails the open recordings, not the calls, and is started again', async () => {
    const dir = tmp();
    engine = (await startEngine({ statsIntervalMs: 0, recordingWriterScript: CRASHING_WRITER }))
      .engine;
    const leg = await engine.createLeg({ codecs: [{ name: 'PCMU', payloadType: 0 }] });
    const room = await engine.createRoom();
    await room.startRecording({ path: join(dir, 'cut.wav'), channels: 2, format: 'wav' });
    const before = await engine.getRecordingWriterStats();
    expect(before?.openFiles).toBe(1);
    writeFileSync(CRASH_TRIGGER, '');
    // Restarted: a new thread, with no batches yet.
    await until(
      () => engine!.getRecordingWriterStats(),
      (s) => s !== null && s.batches === 0,
    );
    const cut = await room.close();
    expect(cut?.error).toMatch(/recording writer thread is gone/);
    expect(leg.closed).toBe(false); // the call goes on
    const next = await engine.createRoom();
    await next.startRecording({ path: join(dir, 'next.wav'), channels: 1, format: 'wav' });
    expect((await next.close())?.error).toBeNull();
    const wav = readFileSync(join(dir, 'next.wav'));
    expect(readWavHeader(wav).channels).toBe(1);
    await engine.writeSmallFile(join(dir, 'next.json'), '{}\n', 0o640);
    expect(readFileSync(join(dir, 'next.json'), 'utf8')).toBe('{}\n');
    await leg.close();
  });
});
