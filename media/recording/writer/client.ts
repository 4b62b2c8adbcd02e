/**
 * A thread's side of the recording writer (docs/architecture.md, the recording section):
 * queues file ops, sends them to the writer thread in one message per event-loop turn (the
 * bytes of all the batch's writes packed into one transferred ArrayBuffer: a structured
 * clone of a Buffer view would copy its whole backing pool) and settles each op's promise
 * from the batch of completions. The writer transfers each buffer back with its reply, and
 * a few are kept for later batches: fresh memory for every batch costs page faults. Used by each media worker (the recorders' files) and by
 * the main thread (the recording sidecars).
 *
 * Buffers handed to `write` are copied when the batch is sent, so, as with a FileHandle,
 * they must not change until the write settles. If the writer thread goes away (its port
 * closes), every pending op and every later one rejects with ERR_RECORDING_WRITER_GONE.
 */
import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { FilePart, RecordingFile } from '../recordingFile.js';
import type { WriterBatch, WriterOp, WriterReply } from './protocol.js';
import { fromWire } from './protocol.js';

interface Pending {
  resolve(value: number): void;
  reject(error: Error): void;
}

/** A write's source, copied into the batch's data when the batch is sent. */
interface Source {
  buf: Buffer;
  offset: number;
  length: number;
}

/** Smallest data buffer made (a batch of a few 1 s WAV blocks fits), and buffers kept. */
const MIN_BUFFER = 64 * 1024;
const MAX_SPARE = 4;

/**
 * How long a media worker's ops wait to be sent with those that follow. Its sweep writes
 * every recording in one turn, but each recording's close (last block, header patch,
 * close) comes with the engine's commands for that call, one call per turn at a few
 * hundred call set-ups per second: each was a message to the writer thread and one back,
 * two thread wake-ups on a small machine. Held this long, the closes of the calls ending
 * meanwhile share one message each way (docs/architecture.md §7.6). Creates are held
 * too: each recording's create was a round trip of its own (a wake-up of the writer, then
 * of the worker, then of the main thread for the start's answer), one per call set-up; a
 * recording is fed from its start while its file is created (roomRecording.ts), so the
 * wait costs it no audio, and only its start's answer comes up to this much later (up to
 * BUSY_INTERVAL_FACTOR times this while batches go often).
 */
export const WORKER_WRITER_BATCH_MS = 20;

/**
 * While batches go often, a client sends at most one per `delayMs` × this: ops then wait
 * past `delayMs` until that long after the last batch was sent (`batchDueMs`). Each batch
 * costs a chain of wake-ups (the client's timer, the writer thread, the client again for
 * the answer and, in a media worker, the main thread for the starts and ends it answers;
 * about 100 µs of CPU each on the benches' VM, more than a recorded call's system calls).
 * Held 20 ms, a worker sent 50 batches a second at any rate above about 50 recorded call
 * set-ups per second; spaced 100 ms, 10, and the main thread's sidecars 4 instead of 20
 * (docs/architecture.md §7.6). An op after a quiet spell still waits only `delayMs`.
 */
export const BUSY_INTERVAL_FACTOR = 5;

/**
 * When a batch whose first op was queued at `now` is sent: `delayMs` later, and not
 * before `busyIntervalMs` after the last batch was sent at `lastSentMs`.
 */
export function batchDueMs(
  now: number,
  lastSentMs: number,
  delayMs: number,
  busyIntervalMs: number,
): number {
  return Math.max(now + delayMs, lastSentMs + busyIntervalMs);
}

export class WriterGoneError extends Error {
  readonly code = 'ERR_RECORDING_WRITER_GONE';
  constructor(message = 'the recording writer thread is gone') {
    super(message);
    this.name = 'WriterGoneError';
  }
}

export class WriterClient {
  private ops: WriterOp[] = [];
  private waiting: Pending[] = [];
  private sources: Source[] = [];
  private dataBytes = 0;
  /** Batches sent and not answered yet, oldest first: each op's pending. */
  private readonly inFlight: Pending[][] = [];
  private scheduled = false;
  private gone: Error | null = null;
  private nextFile = 1;
  /** Data buffers the writer gave back, for later batches. */
  private spare: ArrayBuffer[] = [];
  /** Batches sent (for tests and stats). */
  batches = 0;

  private timer: NodeJS.Timeout | null = null;
  /** When the last batch was sent (performance.now()). */
  private lastSentMs = -Infinity;

  constructor(
    private readonly port: MessagePort,
    /**
     * How long ops wait to be sent, gathering those that follow into the same batch: 0
     * sends at the end of this turn; a media worker's (WORKER_WRITER_BATCH_MS: its creates,
     * closes and blocks) and the main thread's sidecars, one or two ops per call at any
     * time, go a few calls per message.
     */
    private readonly delayMs = 0,
    /** The least time between two batches (batchDueMs, BUSY_INTERVAL_FACTOR). */
    private readonly busyIntervalMs = delayMs * BUSY_INTERVAL_FACTOR,
  ) {
    port.on('message', (reply: WriterReply) => this.complete(reply));
    port.on('close', () => this.fail(new WriterGoneError()));
    // Only ops waiting for an answer keep the thread's event loop alive.
    port.unref();
  }

  /** Ops queued or in flight. */
  get pending(): number {
    let n = this.waiting.length;
    for (const batch of this.inFlight) n += batch.length;
    return n;
  }

  /** Creates `path` (flag 'wx': EEXIST if it exists) with `mode` whatever the umask. */
  async create(path: string, mode: number): Promise<RecordingFile> {
    const file = this.nextFile++;
    await this.enqueue({ k: 'create', file, path, mode });
    return new WriterFile(this, file);
  }

  /**
   * The same file as `create`, without waiting for it: the create goes in the next batch,
   * and the ops called on the file now go in the same batch behind it (one round
   * trip to open a recording and write its header). If the create fails, each of them
   * rejects with its error (EEXIST, ENOENT…), and `close` only forgets the file.
   */
  open(path: string, mode: number): RecordingFile {
    const file = this.nextFile++;
    // Its failure is reported by the file's ops (each rejects with it).
    this.enqueue({ k: 'create', file, path, mode }).catch(() => undefined);
    return new WriterFile(this, file);
  }

  /** Writes `text` to `path` whole (a temporary file with `mode`, then renamed). */
  async writeSmallFile(path: string, text: string, mode: number): Promise<void> {
    await this.enqueue({ k: 'small', path, text, mode });
  }

  /**
   * Rewrites the small file `path` with `text`: in place when it exists and the text fits
   * a page (nothing created or deleted), else as `writeSmallFile` (writerCore.ts).
   */
  async updateSmallFile(path: string, text: string, mode: number): Promise<void> {
    await this.enqueue({ k: 'update', path, text, mode });
  }

  /** @internal WriterFile's write: resolves with the bytes written. */
  write(file: number, buf: Buffer, offset: number, length: number, pos: number): Promise<number> {
    if (!(offset >= 0 && length >= 0 && offset + length <= buf.length)) {
      return Promise.reject(new RangeError('write outside the buffer'));
    }
    const at = this.dataBytes;
    this.sources.push({ buf, offset, length });
    this.dataBytes += length;
    return this.enqueue({ k: 'write', file, at, len: length, pos });
  }

  /** @internal WriterFile's writeParts: resolves with the bytes written over all slices. */
  writeParts(file: number, list: readonly FilePart[]): Promise<number> {
    for (const p of list) {
      if (!(p.offset >= 0 && p.length >= 0 && p.offset + p.length <= p.buf.length)) {
        return Promise.reject(new RangeError('write outside the buffer'));
      }
    }
    if (this.gone !== null) return Promise.reject(this.gone);
    const parts: number[] = [];
    for (const p of list) {
      parts.push(this.dataBytes, p.length, p.position);
      this.sources.push({ buf: p.buf, offset: p.offset, length: p.length });
      this.dataBytes += p.length;
    }
    return this.enqueue({ k: 'writes', file, parts });
  }

  /** @internal WriterFile's close. */
  closeFile(file: number): Promise<number> {
    return this.enqueue({ k: 'close', file });
  }

  /** Closes the port (the writer then closes this client's files). */
  close(): void {
    this.port.close();
  }

  private enqueue(op: WriterOp): Promise<number> {
    if (this.gone !== null) {
      if (op.k === 'write') this.unqueueSource();
      return Promise.reject(this.gone);
    }
    return new Promise<number>((resolve, reject) => {
      this.ops.push(op);
      this.waiting.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.port.ref();
        const now = performance.now();
        const due = batchDueMs(now, this.lastSentMs, this.delayMs, this.busyIntervalMs);
        if (due <= now) setImmediate(() => this.flush());
        else this.timer = setTimeout(() => this.flush(), due - now);
      }
    });
  }

  private unqueueSource(): void {
    const s = this.sources.pop();
    if (s !== undefined) this.dataBytes -= s.length;
  }

  /** Sends what is queued as one batch. */
  private flush(): void {
    this.scheduled = false;
    this.timer = null;
    if (this.ops.length === 0 || this.gone !== null) return;
    let data: ArrayBuffer | null = null;
    if (this.dataBytes > 0) {
      data = this.takeBuffer(this.dataBytes);
      const bytes = new Uint8Array(data);
      let at = 0;
      for (const s of this.sources) {
        s.buf.copy(bytes, at, s.offset, s.offset + s.length);
        at += s.length;
      }
    }
    const batch: WriterBatch = { ops: this.ops, data };
    this.inFlight.push(this.waiting);
    this.ops = [];
    this.waiting = [];
    this.sources = [];
    this.dataBytes = 0;
    this.batches++;
    this.lastSentMs = performance.now();
    this.port.postMessage(batch, data === null ? [] : [data]);
  }

  /** A buffer of at least `bytes`: a returned one, else a new one (rounded up, to be reused). */
  private takeBuffer(bytes: number): ArrayBuffer {
    const spare = this.spare;
    for (let i = 0; i < spare.length; i++) {
      if (spare[i]!.byteLength >= bytes) {
        const buf = spare[i]!;
        spare[i] = spare[spare.length - 1]!;
        spare.pop();
        return buf;
      }
    }
    return new ArrayBuffer(Math.max(MIN_BUFFER, 2 ** Math.ceil(Math.log2(bytes))));
  }

  private complete(reply: WriterReply): void {
    // The batch's buffer, back from the writer: kept for later batches (a few, the largest).
    if (reply.data) {
      this.spare.push(reply.data);
      if (this.spare.length > MAX_SPARE) {
        this.spare.sort((a, b) => b.byteLength - a.byteLength);
        this.spare.length = MAX_SPARE;
      }
    }
    const batch = this.inFlight.shift();
    if (batch === undefined) return;
    const { results } = reply;
    for (let i = 0; i < batch.length; i++) {
      const r = results[i];
      if (typeof r === 'number') batch[i]!.resolve(r);
      else batch[i]!.reject(r === undefined ? new Error('no result from the writer') : fromWire(r));
    }
    if (this.inFlight.length === 0 && !this.scheduled) this.port.unref();
  }

  private fail(error: Error): void {
    if (this.gone !== null) return;
    this.gone = error;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.scheduled = false;
    const batches = [...this.inFlight, this.waiting];
    this.inFlight.length = 0;
    this.ops = [];
    this.waiting = [];
    this.sources = [];
    this.dataBytes = 0;
    for (const batch of batches) for (const p of batch) p.reject(error);
  }
}

/** A RecordingFile (what the WAV and Ogg recorders write to) served by the writer thread. */
class WriterFile implements RecordingFile {
  constructor(
    private readonly client: WriterClient,
    private readonly file: number,
  ) {}

  async write(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }> {
    return { bytesWritten: await this.client.write(this.file, buffer, offset, length, position) };
  }

  async close(): Promise<void> {
    await this.client.closeFile(this.file);
  }

  writeParts(parts: readonly FilePart[]): Promise<number> {
    return this.client.writeParts(this.file, parts);
  }
}
