/**
 * The writer thread's work: every recording file's I/O with synchronous system calls,
 * batch by batch (docs/architecture.md, the recording section). One blocking call on this
 * thread costs a few microseconds; the same call made async from an event loop costs a
 * libuv thread-pool round trip (wake a pool thread, wake the loop back), which on a small
 * machine costs far more than the call. Clients batch their ops, so a batch of writes from
 * many recordings is one message each way.
 *
 * Each client (a MessagePort) owns the files it created: they are closed when it closes
 * them, when its port closes (its thread died) or when the writer closes. Ops of one port
 * run in the order sent; an op's error is its own (the next ops still run).
 */
import {
  closeSync,
  fchmodSync,
  fstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import type { WriterBatch, WriterOp, WriterReply, WriterResult, WriterStats } from './protocol.js';
import { toWire } from './protocol.js';

/** Opens `path` with 'wx' and `mode`, then makes the mode exact (the umask may cut it). */
function createExclusive(path: string, mode: number): number {
  const fd = openSync(path, 'wx', mode);
  try {
    // fstat rather than reading the umask: process.umask() reads it by setting it, which
    // races with other threads creating files.
    if ((fstatSync(fd).mode & 0o7777) !== mode) fchmodSync(fd, mode);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** Writes all of `len` bytes, however many calls it takes; stops at a call writing none. */
function writeAll(fd: number, data: Uint8Array, at: number, len: number, pos: number): number {
  let done = 0;
  while (done < len) {
    const n = writeSync(fd, data, at + done, len - done, pos + done);
    if (!(n > 0)) break;
    done += n;
  }
  return done;
}

/**
 * Writes `text` to `path` at once: to `path`.tmp (flag 'wx'; one a crash left is removed
 * first), mode made exact, then renamed over `path`. A reader never sees half a file.
 */
function writeSmall(path: string, text: string, mode: number): void {
  const temp = `${path}.tmp`;
  let fd: number;
  try {
    fd = createExclusive(temp, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    unlinkSync(temp); // a crash left it behind, with whatever mode it had then
    fd = createExclusive(temp, mode);
  }
  try {
    const bytes = Buffer.from(text, 'utf8');
    if (writeAll(fd, bytes, 0, bytes.length, 0) !== bytes.length) {
      throw new Error(`short write to ${temp}`);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

export class WriterCore {
  /** Per client: its file numbers → fds. */
  private readonly files = new Map<object, Map<number, number>>();
  private readonly totals = { batches: 0, ops: 0, bytes: 0, errors: 0 };

  /** Runs a client's batch in order; one result per op. */
  run(client: object, batch: WriterBatch): WriterResult[] {
    let fds = this.files.get(client);
    if (fds === undefined) {
      fds = new Map();
      this.files.set(client, fds);
    }
    const data = batch.data === null ? null : new Uint8Array(batch.data);
    const results: WriterResult[] = new Array<WriterResult>(batch.ops.length);
    for (let i = 0; i < batch.ops.length; i++) {
      try {
        results[i] = this.op(fds, batch.ops[i]!, data);
      } catch (err) {
        this.totals.errors++;
        results[i] = toWire(err);
      }
    }
    this.totals.batches++;
    this.totals.ops += batch.ops.length;
    return results;
  }

  private op(fds: Map<number, number>, op: WriterOp, data: Uint8Array | null): number {
    switch (op.k) {
      case 'create': {
        if (fds.has(op.file)) throw new Error(`file ${op.file} is open`);
        fds.set(op.file, createExclusive(op.path, op.mode));
        return 0;
      }
      case 'write': {
        if (data === null || op.at + op.len > data.length) throw new Error('write outside data');
        const n = writeAll(this.fd(fds, op.file), data, op.at, op.len, op.pos);
        this.totals.bytes += n;
        return n;
      }
      case 'close': {
        const fd = this.fd(fds, op.file);
        fds.delete(op.file);
        closeSync(fd);
        return 0;
      }
      case 'small':
        writeSmall(op.path, op.text, op.mode);
        this.totals.bytes += op.text.length;
        return 0;
    }
  }

  private fd(fds: Map<number, number>, file: number): number {
    const fd = fds.get(file);
    if (fd === undefined) {
      const err: NodeJS.ErrnoException = new Error(`recording file ${file} is not open`);
      err.code = 'EBADF';
      throw err;
    }
    return fd;
  }

  /** Closes every file of a client (its port closed); returns how many. */
  closeClient(client: object): number {
    const fds = this.files.get(client);
    if (fds === undefined) return 0;
    this.files.delete(client);
    for (const fd of fds.values()) {
      try {
        closeSync(fd);
      } catch {
        // nothing more to do for an fd that will not close
      }
    }
    return fds.size;
  }

  /** Closes every file of every client. */
  closeAll(): number {
    let n = 0;
    for (const client of [...this.files.keys()]) n += this.closeClient(client);
    return n;
  }

  stats(cpuMs: number | null): WriterStats {
    let openFiles = 0;
    for (const fds of this.files.values()) openFiles += fds.size;
    return { cpuMs, openFiles, ...this.totals };
  }
}

/**
 * Serves one client's port: each batch is run and answered with one message; when the
 * port closes (the client's thread died, or it closed it), the client's files are closed.
 */
export function servePort(core: WriterCore, port: MessagePort, onClose?: () => void): void {
  port.on('message', (batch: WriterBatch) => {
    const reply: WriterReply = { results: core.run(port, batch), data: batch.data };
    port.postMessage(reply, batch.data === null ? [] : [batch.data]);
  });
  port.on('close', () => {
    core.closeClient(port);
    onClose?.();
  });
}
