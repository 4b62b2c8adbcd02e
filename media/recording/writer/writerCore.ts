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

/** What an in-place rewrite may write: one page, so one write(2) puts all of it or none. */
const PAGE = 4096;

/**
 * Rewrites the small file at `path` with `text` in place (docs/architecture.md §7.5): one
 * positional write at 0, padded with blanks (JSON whitespace) to the old length so no old
 * byte is left behind it, when the file exists and the text fits a page. A write of one
 * page either lands whole or not at all, also when the process is killed meanwhile, so a
 * crash leaves the old text or the new one. Creating a file and renaming it over the old
 * one (which frees an inode) cost more than the write itself, per recorded call. Else (no
 * file, a longer text) as `writeSmall`.
 */
function updateSmall(path: string, text: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    writeSmall(path, text, mode);
    return;
  }
  let bytes: Buffer;
  try {
    const old = fstatSync(fd).size;
    bytes = Buffer.from(text, 'utf8');
    if (bytes.length < old) {
      const padded = Buffer.alloc(old, 0x20);
      bytes.copy(padded, 0, 0, bytes.length - 1);
      padded[old - 1] = bytes[bytes.length - 1]!; // the final newline stays last
      bytes = padded;
    }
    if (bytes.length <= PAGE) {
      if (writeSync(fd, bytes, 0, bytes.length, 0) !== bytes.length) {
        throw new Error(`short write to ${path}`);
      }
      return;
    }
  } finally {
    closeSync(fd);
  }
  writeSmall(path, text, mode);
}

export class WriterCore {
  /** Per client: its file numbers → fds. */
  private readonly files = new Map<object, Map<number, number>>();
  /**
   * Per client: files whose create failed, or a `writes` op on them → its error, for the
   * ops queued behind it.
   */
  private readonly failed = new Map<object, Map<number, unknown>>();
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
        results[i] = this.op(client, fds, batch.ops[i]!, data);
      } catch (err) {
        this.totals.errors++;
        results[i] = toWire(err);
      }
    }
    this.totals.batches++;
    this.totals.ops += batch.ops.length;
    return results;
  }

  private op(
    client: object,
    fds: Map<number, number>,
    op: WriterOp,
    data: Uint8Array | null,
  ): number {
    switch (op.k) {
      case 'create': {
        if (fds.has(op.file)) throw new Error(`file ${op.file} is open`);
        try {
          fds.set(op.file, createExclusive(op.path, op.mode));
        } catch (err) {
          this.failedOf(client).set(op.file, err);
          throw err;
        }
        return 0;
      }
      case 'write': {
        if (data === null || op.at + op.len > data.length) throw new Error('write outside data');
        const n = writeAll(this.fd(client, fds, op.file), data, op.at, op.len, op.pos);
        this.totals.bytes += n;
        return n;
      }
      case 'writes': {
        const { parts } = op;
        if (data === null || parts.length % 3 !== 0) throw new Error('write outside data');
        for (let i = 0; i < parts.length; i += 3) {
          if (parts[i]! + parts[i + 1]! > data.length) throw new Error('write outside data');
        }
        // After a failed one, nothing more is written to the file (a patch sent behind a
        // block that failed must not land).
        const earlier = this.failed.get(client)?.get(op.file);
        if (earlier !== undefined) throw earlier;
        const fd = this.fd(client, fds, op.file);
        let total = 0;
        try {
          for (let i = 0; i < parts.length; i += 3) {
            const len = parts[i + 1]!;
            const n = writeAll(fd, data, parts[i]!, len, parts[i + 2]!);
            total += n;
            if (n !== len) {
              this.failedOf(client).set(op.file, new Error(`a write to file ${op.file} was short`));
              break;
            }
          }
        } catch (err) {
          this.failedOf(client).set(op.file, err);
          throw err;
        } finally {
          this.totals.bytes += total;
        }
        return total;
      }
      case 'close': {
        const failed = this.failed.get(client);
        const wasFailed = failed?.delete(op.file) === true;
        // Never opened (its create failed): nothing to close.
        if (wasFailed && !fds.has(op.file)) return 0;
        const fd = this.fd(client, fds, op.file);
        fds.delete(op.file);
        closeSync(fd);
        return 0;
      }
      case 'small':
        writeSmall(op.path, op.text, op.mode);
        this.totals.bytes += op.text.length;
        return 0;
      case 'update':
        updateSmall(op.path, op.text, op.mode);
        this.totals.bytes += op.text.length;
        return 0;
    }
  }

  private failedOf(client: object): Map<number, unknown> {
    let failed = this.failed.get(client);
    if (failed === undefined) {
      failed = new Map();
      this.failed.set(client, failed);
    }
    return failed;
  }

  private fd(client: object, fds: Map<number, number>, file: number): number {
    const fd = fds.get(file);
    if (fd === undefined) {
      // Queued behind its create, which failed: the create's error (EEXIST, ENOENT…).
      const failed = this.failed.get(client);
      if (failed?.has(file) === true) throw failed.get(file);
      const err: NodeJS.ErrnoException = new Error(`recording file ${file} is not open`);
      err.code = 'EBADF';
      throw err;
    }
    return fd;
  }

  /** Closes every file of a client (its port closed); returns how many. */
  closeClient(client: object): number {
    this.failed.delete(client);
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
    this.failed.clear();
    return n;
  }

  stats(cpuMs: number | null, nice: number | null = null): WriterStats {
    let openFiles = 0;
    for (const fds of this.files.values()) openFiles += fds.size;
    return { cpuMs, nice, openFiles, ...this.totals };
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
