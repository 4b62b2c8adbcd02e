/**
 * The recording writer's client and core over a MessageChannel in this thread (the thread
 * entry only attaches ports to the same core: test/integration/media/recording-writer.test.ts
 * runs it as a thread), with real files in a temporary folder.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { openSink } from '../../../../media/recording/openSink.js';
import { readWavHeader } from '../../../../media/recording/wavHeader.js';
import { WriterClient, batchDueMs } from '../../../../media/recording/writer/client.js';
import type { WriterBatch } from '../../../../media/recording/writer/protocol.js';
import { WriterCore, servePort } from '../../../../media/recording/writer/writerCore.js';

let dir: string;
let core: WriterCore;
let ports: MessagePort[];
/** What the writer side received: per batch, its op kinds, data size and bytes used. */
let batches: { kinds: string[]; dataBytes: number; used: number }[];

function connect(
  delayMs = 0,
  busyIntervalMs?: number,
): { client: WriterClient; server: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  port2.on('message', (b: WriterBatch) =>
    batches.push({
      kinds: b.ops.map((o) => o.k),
      dataBytes: b.data?.byteLength ?? 0,
      used: b.ops.reduce((n, o) => n + (o.k === 'write' ? o.len : 0), 0),
    }),
  );
  servePort(core, port2);
  ports.push(port1, port2);
  return { client: new WriterClient(port1, delayMs, busyIntervalMs), server: port2 };
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callwatch-writer-'));
  core = new WriterCore();
  ports = [];
  batches = [];
});

afterEach(async () => {
  for (const p of ports) p.close();
  core.closeAll();
  await rm(dir, { recursive: true, force: true });
});

describe('recording writer client and core', () => {
  it('runs a file’s ops in order, positional writes landing where asked', async () => {
    const { client } = connect();
    const path = join(dir, 'a.bin');
    const file = await client.create(path, 0o640);
    const w1 = file.write(Buffer.from('hello world'), 0, 11, 0);
    const w2 = file.write(Buffer.from('WORLD'), 0, 5, 6); // after w1: overwrites its tail
    const w3 = file.write(Buffer.from('xx!yy'), 2, 1, 11); // a slice of its buffer
    await expect(Promise.all([w1, w2, w3])).resolves.toEqual([
      { bytesWritten: 11 },
      { bytesWritten: 5 },
      { bytesWritten: 1 },
    ]);
    await file.close();
    expect(await readFile(path, 'latin1')).toBe('hello WORLD!');
  });

  it('sends the ops of one turn as one batch, the writes packed into one buffer', async () => {
    const { client } = connect();
    const files = await Promise.all([0, 1, 2].map((i) => client.create(join(dir, `${i}`), 0o640)));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.kinds).toEqual(['create', 'create', 'create']);
    // Small buffers from Node's shared pool: only their bytes travel, not the 8 KiB pool.
    const bufs = files.map((_, i) => Buffer.from(`file ${i} `));
    expect(bufs[0]!.buffer.byteLength).toBeGreaterThan(1000);
    await Promise.all(files.map((f, i) => f.write(bufs[i]!, 0, bufs[i]!.length, 0)));
    expect(batches).toHaveLength(2);
    expect(batches[1]!.kinds).toEqual(['write', 'write', 'write']);
    expect(batches[1]!.used).toBe(bufs.reduce((n, b) => n + b.length, 0));
    expect(batches[1]!.dataBytes).toBe(64 * 1024); // its own buffer, not the pool
    await Promise.all(files.map((f) => f.close()));
    expect(batches).toHaveLength(3);
    expect(client.batches).toBe(3);
    for (let i = 0; i < 3; i++)
      expect(await readFile(join(dir, `${i}`), 'latin1')).toBe(`file ${i} `);
  });

  it('copies a write’s bytes when the batch is sent: the caller may reuse them after', async () => {
    const { client } = connect();
    const file = await client.create(join(dir, 'c'), 0o640);
    const buf = Buffer.from('abcd');
    const done = file.write(buf, 0, 4, 0);
    await done;
    buf.write('zzzz');
    await file.close();
    expect(await readFile(join(dir, 'c'), 'latin1')).toBe('abcd');
  });

  it('reuses the data buffers the writer gives back, growing them for a large batch', async () => {
    const { client } = connect();
    const file = await client.create(join(dir, 'r'), 0o640);
    const block = Buffer.alloc(40_000, 7);
    await Promise.all([file.write(block, 0, 40_000, 0), file.write(block, 0, 40_000, 40_000)]);
    await file.write(block, 0, 100, 80_000); // fits the 128 KiB buffer that came back
    await Promise.all([0, 1, 2, 3].map((i) => file.write(block, 0, 40_000, i * 40_000)));
    await file.close();
    expect(batches.slice(1).map((b) => b.dataBytes)).toEqual([
      128 * 1024,
      128 * 1024,
      256 * 1024,
      0,
    ]);
    expect((await stat(join(dir, 'r'))).size).toBe(160_000);
  });

  it('rejects an op with its Node error (code kept) and runs the rest of the batch', async () => {
    const { client } = connect();
    await writeFile(join(dir, 'exists'), 'x');
    const results = await Promise.allSettled([
      client.create(join(dir, 'exists'), 0o640),
      client.create(join(dir, 'no-such-dir', 'f'), 0o640),
      client.create(join(dir, 'fine'), 0o640),
    ]);
    expect(batches).toHaveLength(1);
    const [exists, missing, fine] = results;
    expect(exists.status).toBe('rejected');
    expect((exists as PromiseRejectedResult).reason).toMatchObject({
      code: 'EEXIST',
      syscall: 'open',
      message: expect.stringMatching(/^EEXIST/),
    });
    // The recording tap re-makes a removed folder on ENOENT in the message.
    expect((missing as PromiseRejectedResult).reason).toMatchObject({
      code: 'ENOENT',
      message: expect.stringMatching(/ENOENT/),
    });
    expect(fine.status).toBe('fulfilled');
    const file = (fine as PromiseFulfilledResult<Awaited<ReturnType<WriterClient['create']>>>)
      .value;
    await file.close();
    await expect(file.write(Buffer.from('late'), 0, 4, 0)).rejects.toMatchObject({
      code: 'EBADF',
    });
    expect(core.stats(null).errors).toBe(3);
  });

  it('applies the mode whatever the umask', async () => {
    const { client } = connect();
    const old = process.umask(0o077); // cuts 0640 to 0600
    try {
      const file = await client.create(join(dir, 'm'), 0o640);
      await file.close();
      await client.writeSmallFile(join(dir, 'm.json'), '{}\n', 0o640);
    } finally {
      process.umask(old);
    }
    expect((await stat(join(dir, 'm'))).mode & 0o777).toBe(0o640);
    expect((await stat(join(dir, 'm.json'))).mode & 0o777).toBe(0o640);
  });

  it('writes a small file whole through a temp file, replacing one a crash left', async () => {
    const { client } = connect();
    const path = join(dir, 'call.json');
    await writeFile(path, 'old contents');
    await writeFile(`${path}.tmp`, 'half a sidecar', { mode: 0o666 });
    await client.writeSmallFile(path, '{"callId":"x"}\n', 0o640);
    expect(await readFile(path, 'utf8')).toBe('{"callId":"x"}\n');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['call.json']);
    await expect(
      client.writeSmallFile(join(dir, 'gone', 'x.json'), '{}', 0o640),
    ).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects pending and later ops when the writer’s port closes', async () => {
    const { client, server } = connect();
    const file = await client.create(join(dir, 'p'), 0o640);
    const pending = file.write(Buffer.alloc(100), 0, 100, 0);
    server.close(); // the writer thread went away before answering
    await expect(pending).rejects.toMatchObject({ code: 'ERR_RECORDING_WRITER_GONE' });
    await expect(client.create(join(dir, 'q'), 0o640)).rejects.toMatchObject({
      code: 'ERR_RECORDING_WRITER_GONE',
    });
    expect(client.pending).toBe(0);
  });

  it('closes a client’s files when its port closes mid-write, not another client’s', async () => {
    const a = connect();
    const b = connect();
    await a.client.create(join(dir, 'a1'), 0o640);
    await a.client.create(join(dir, 'a2'), 0o640);
    const bFile = await b.client.create(join(dir, 'b1'), 0o640);
    expect(core.stats(null).openFiles).toBe(3);
    a.client.close(); // its thread died with two files open
    await until(() => core.stats(null).openFiles === 1);
    await bFile.write(Buffer.from('still open'), 0, 10, 0);
    await bFile.close();
    expect(core.stats(null).openFiles).toBe(0);
    expect(await readFile(join(dir, 'b1'), 'latin1')).toBe('still open');
  });

  it('closeAll closes every file (the engine’s close)', async () => {
    const { client } = connect();
    const file = await client.create(join(dir, 'z'), 0o640);
    await file.write(Buffer.from('kept'), 0, 4, 0);
    expect(core.closeAll()).toBe(1);
    await expect(file.write(Buffer.from('x'), 0, 1, 4)).rejects.toMatchObject({ code: 'EBADF' });
    expect(await readFile(join(dir, 'z'), 'latin1')).toBe('kept');
  });

  it('with a delay, gathers the ops of the following turns into one batch', async () => {
    const { client } = connect(30);
    const first = client.writeSmallFile(join(dir, 'a.json'), '{}\n', 0o640);
    await new Promise((r) => setImmediate(r)); // a later turn, within the delay
    const second = client.writeSmallFile(join(dir, 'b.json'), '{}\n', 0o640);
    await Promise.all([first, second]);
    expect(batches.map((b) => b.kinds)).toEqual([['small', 'small']]);
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'b.json']);
  });

  it('a batch goes its delay after its first op, and not before the busy interval since the last', () => {
    expect(batchDueMs(1000, -Infinity, 20, 100)).toBe(1020); // after a quiet spell: the delay
    expect(batchDueMs(1000, 990, 20, 100)).toBe(1090); // batches going often: spaced
    expect(batchDueMs(1000, 900, 20, 100)).toBe(1020);
    expect(batchDueMs(1000, 995, 0, 0)).toBe(1000); // no delay: at the end of this turn
  });

  it('while batches go often, sends one per busy interval; after a quiet spell, one the delay after its op', async () => {
    const sent: number[] = [];
    const { client, server } = connect(10, 300);
    server.on('message', () => sent.push(performance.now()));
    await client.writeSmallFile(join(dir, 'a.json'), '{}\n', 0o640);
    // Right behind the first batch: held until 300 ms after it, gathering what follows.
    const b = client.writeSmallFile(join(dir, 'b.json'), '{}\n', 0o640);
    await new Promise((r) => setTimeout(r, 50));
    const c = client.writeSmallFile(join(dir, 'c.json'), '{}\n', 0o640);
    await Promise.all([b, c]);
    expect(batches.map((x) => x.kinds)).toEqual([['small'], ['small', 'small']]);
    // (a timer counts from the event loop's time, which may be a few ms behind)
    expect(sent[1]! - sent[0]!).toBeGreaterThanOrEqual(280);
    // A quiet spell longer than the interval: the next op waits only the delay.
    await new Promise((r) => setTimeout(r, 350));
    const queued = performance.now();
    await client.writeSmallFile(join(dir, 'd.json'), '{}\n', 0o640);
    expect(sent[2]! - queued).toBeLessThan(250);
    expect(batches).toHaveLength(3);
  });

  it('with a delay, creates are held too: the closes and creates of the delay share one batch', async () => {
    // A media worker's client: a recording's create waits with its closes and blocks
    // (roomRecording.ts feeds the recording meanwhile), so the creates of calls starting
    // within the delay, and the closes of those ending, are one message each way.
    const { client } = connect(100);
    const first = client.open(join(dir, 'first.bin'), 0o640);
    const header = first.write(Buffer.from('H'), 0, 1, 0);
    await new Promise((r) => setTimeout(r, 20)); // a later turn, within the delay
    expect(batches).toEqual([]);
    const second = client.open(join(dir, 'second.bin'), 0o640);
    await Promise.all([header, second.write(Buffer.from('S'), 0, 1, 0)]);
    expect(batches.map((b) => b.kinds)).toEqual([['create', 'write', 'create', 'write']]);
    await Promise.all([first.close(), second.close()]);
    expect(batches.map((b) => b.kinds)).toEqual([
      ['create', 'write', 'create', 'write'],
      ['close', 'close'],
    ]);
    expect(await readFile(join(dir, 'second.bin'), 'latin1')).toBe('S');
  });

  it('opens a file without waiting: its create and the ops behind it go in one batch', async () => {
    const { client } = connect();
    const path = join(dir, 'o.bin');
    const file = client.open(path, 0o640);
    const header = file.write(Buffer.from('HDR0'), 0, 4, 0);
    await expect(header).resolves.toEqual({ bytesWritten: 4 });
    expect(batches.map((b) => b.kinds)).toEqual([['create', 'write']]);
    await file.close();
    expect(await readFile(path, 'latin1')).toBe('HDR0');
    expect(core.stats(null).openFiles).toBe(0);
  });

  it('answers the ops queued behind a failed create with its error; close forgets the file', async () => {
    const { client } = connect();
    await writeFile(join(dir, 'taken'), 'x');
    const taken = client.open(join(dir, 'taken'), 0o640);
    const missing = client.open(join(dir, 'no-such-dir', 'f'), 0o640);
    const [a, b] = await Promise.allSettled([
      taken.write(Buffer.from('y'), 0, 1, 0),
      missing.write(Buffer.from('y'), 0, 1, 0),
    ]);
    expect((a as PromiseRejectedResult).reason).toMatchObject({ code: 'EEXIST' });
    // The recording tap re-makes a removed folder on ENOENT in the message.
    expect((b as PromiseRejectedResult).reason).toMatchObject({
      code: 'ENOENT',
      message: expect.stringMatching(/ENOENT/),
    });
    await expect(taken.close()).resolves.toBeUndefined();
    await expect(missing.close()).resolves.toBeUndefined();
    expect(await readFile(join(dir, 'taken'), 'latin1')).toBe('x');
    expect(core.stats(null).openFiles).toBe(0);
  });

  it('writes slices in order as one op, and none after one that failed', async () => {
    const { client } = connect();
    const file = client.open(join(dir, 's.bin'), 0o640);
    const body = Buffer.from('0123456789');
    const done = file.writeParts!([
      { buf: body, offset: 0, length: 10, position: 4 },
      { buf: Buffer.from('HEAD'), offset: 0, length: 4, position: 0 },
    ]);
    await expect(done).resolves.toBe(14);
    expect(batches.map((b) => b.kinds)).toEqual([['create', 'writes']]);
    expect(await readFile(join(dir, 's.bin'), 'latin1')).toBe('HEAD0123456789');
    // A slice beyond the largest file (EFBIG) fails: the patch behind it is not written,
    // nor anything sent after it to the same file.
    const failed = file.writeParts!([
      { buf: body, offset: 0, length: 10, position: 2 ** 52 },
      { buf: Buffer.from('XXXX'), offset: 0, length: 4, position: 0 },
    ]);
    const after = file.writeParts!([
      { buf: Buffer.from('YYYY'), offset: 0, length: 4, position: 0 },
    ]);
    await expect(failed).rejects.toHaveProperty('code');
    await expect(after).rejects.toBeInstanceOf(Error);
    await file.close();
    expect(await readFile(join(dir, 's.bin'), 'latin1')).toBe('HEAD0123456789');
  });

  it('rewrites a small file in place, padded to its old length, creating none', async () => {
    const { client } = connect();
    const path = join(dir, 'call.json');
    await client.writeSmallFile(path, '{"callId":"a long first version"}\n', 0o640);
    const before = await stat(path);
    await client.updateSmallFile(path, '{"callId":"b"}\n', 0o640);
    const text = await readFile(path, 'utf8');
    expect(JSON.parse(text)).toEqual({ callId: 'b' });
    expect(text.length).toBe(before.size);
    expect(text.endsWith('\n')).toBe(true);
    expect((await stat(path)).ino).toBe(before.ino);
    const longer = `{"callId":"${'c'.repeat(100)}"}\n`;
    await client.updateSmallFile(path, longer, 0o640);
    expect(await readFile(path, 'utf8')).toBe(longer);
    expect((await stat(path)).ino).toBe(before.ino);
    // More than a page: through a temporary file, as writeSmallFile.
    const huge = `{"callId":"${'d'.repeat(5000)}"}\n`;
    await client.updateSmallFile(path, huge, 0o640);
    expect(await readFile(path, 'utf8')).toBe(huge);
    // None there (removed meanwhile): written as new, with its mode.
    await client.updateSmallFile(join(dir, 'new.json'), '{}\n', 0o640);
    expect(await readFile(join(dir, 'new.json'), 'utf8')).toBe('{}\n');
    expect((await stat(join(dir, 'new.json'))).mode & 0o777).toBe(0o640);
    expect((await readdir(dir)).sort()).toEqual(['call.json', 'new.json']);
  });

  it('serves the WAV recorder: a valid file, its header patched in order', async () => {
    const { client } = connect();
    const path = join(dir, 'rec.wav');
    const { sink } = await openSink({
      path,
      channels: 2,
      format: 'wav',
      sampleRate: 8000,
      law: 'mulaw',
      createFile: (p, mode) => client.create(p, mode),
    });
    const frame = Int16Array.from({ length: 160 }, (_, i) => i * 10);
    for (let i = 0; i < 120; i++) sink.writeFrame(frame, frame); // 2.4 s: blocks of 1 s
    await sink.close();
    const buf = await readFile(path);
    const info = readWavHeader(buf);
    expect(info.dataBytes).toBe(120 * 160 * 4);
    expect(buf.length).toBe(info.dataOffset + info.dataBytes);
    expect(buf.readInt16LE(info.dataOffset + 4 * 7)).toBe(70);
    expect(core.stats(null).openFiles).toBe(0);
  });

  it('serves the WAV recorder over open: create and header, each block with its patch, and the close in one round trip each', async () => {
    const { client } = connect();
    const path = join(dir, 'rec2.wav');
    const { sink } = await openSink({
      path,
      channels: 2,
      format: 'wav',
      sampleRate: 8000,
      law: 'mulaw',
      createFile: (p, mode) => Promise.resolve(client.open(p, mode)),
    });
    expect(batches.map((b) => b.kinds)).toEqual([['create', 'write']]);
    const frame = Int16Array.from({ length: 160 }, (_, i) => i * 10);
    for (let i = 0; i < 50; i++) sink.writeFrame(frame, frame); // one whole 1 s block
    for (let i = 0; i < 10; i++) sink.writeFrame(frame, null);
    await sink.close();
    // The whole block's write went when it filled; the rest, its patch and the close at the
    // close, without waiting for the first.
    expect(batches.map((b) => b.kinds).slice(1)).toEqual([['writes', 'writes', 'close']]);
    const buf = await readFile(path);
    const info = readWavHeader(buf);
    expect(info.dataBytes).toBe(60 * 160 * 4);
    expect(buf.length).toBe(info.dataOffset + info.dataBytes);
    expect(buf.readInt16LE(info.dataOffset + 4 * 7)).toBe(70);
    expect(buf.readInt16LE(info.dataOffset + 50 * 640 + 4 * 7 + 2)).toBe(0);
    expect(core.stats(null).openFiles).toBe(0);
  });
});
