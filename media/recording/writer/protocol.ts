/**
 * What a recording writer client and the writer thread say to each other over a
 * MessagePort (docs/architecture.md, the recording section: where file I/O happens).
 *
 * A client sends batches: a list of ops executed in order, and the bytes of all the batch's
 * writes packed into one transferred ArrayBuffer (a write names its slice; the buffer may
 * be longer, and comes back with the reply to be reused). The thread
 * answers each batch with one batch of completions in the same order. Files are named by a
 * number the client picks, so a write may be queued behind the create of its file (in the
 * same batch: a file whose create failed answers each later op with the create's error).
 */
import type { MessagePort } from 'node:worker_threads';

export type WriterOp =
  /** Creates `path` (flag 'wx') with `mode` applied whatever the umask. */
  | { k: 'create'; file: number; path: string; mode: number }
  /** Writes `len` bytes of the batch's data at `at` to the file at `pos` (all of them). */
  | { k: 'write'; file: number; at: number; len: number; pos: number }
  /**
   * Writes several slices in order (`parts`: at, len, pos per slice), each whole, stopping
   * at the first not written whole: a later slice (a WAV header patch) never lands after
   * an earlier one (its audio) failed. Answers the bytes written over all slices.
   */
  | { k: 'writes'; file: number; parts: number[] }
  | { k: 'close'; file: number }
  /** Writes `text` to `path` whole or not at all: a temporary file, then a rename. */
  | { k: 'small'; path: string; text: string; mode: number }
  /**
   * Rewrites the small file at `path` (a recording's sidecar) with `text`: in place, by one
   * positional write at 0 of at most a page (padded with blanks to the old length), when
   * the file exists and the text fits; else as 'small'. No file is created or deleted.
   */
  | { k: 'update'; path: string; text: string; mode: number };

export interface WriterBatch {
  ops: WriterOp[];
  /** The bytes of the batch's writes (transferred), null when it has none. */
  data: ArrayBuffer | null;
}

/** An error as it crosses the port: Node's fields kept, so `code` (ENOSPC…) survives. */
export interface WireError {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/** One per op of the batch, in order: a write's bytes written, else 0; or the error. */
export type WriterResult = number | WireError;

export interface WriterReply {
  results: WriterResult[];
  /** The batch's data, transferred back for the client to reuse (fresh memory costs page faults). */
  data: ArrayBuffer | null;
}

/** Control messages on the thread's parentPort (the engine's side). */
export type WriterControl =
  | { type: 'attach'; port: MessagePort; owner: string }
  | { type: 'stats'; id: number }
  | { type: 'close'; id: number };

export interface WriterStats {
  /** CPU time of the writer thread since it started (Linux schedstat), null elsewhere. */
  cpuMs: number | null;
  /** The writer thread's nice value (threadPriority.ts), null where it has none of its own. */
  nice: number | null;
  /** Files open now, over all clients. */
  openFiles: number;
  /** Monotonic totals. */
  batches: number;
  ops: number;
  bytes: number;
  errors: number;
}

export type WriterEvent =
  | { type: 'ready' }
  | { type: 'stats'; id: number; stats: WriterStats }
  | { type: 'closed'; id: number };

export function toWire(err: unknown): WireError {
  // Duck-typed, not instanceof: an error from another realm (a vm context) is one too.
  if (typeof (err as { message?: unknown } | null)?.message !== 'string') {
    return { message: String(err) };
  }
  const e = err as NodeJS.ErrnoException;
  const wire: WireError = { message: e.message };
  if (typeof e.code === 'string') wire.code = e.code;
  if (typeof e.errno === 'number') wire.errno = e.errno;
  if (typeof e.syscall === 'string') wire.syscall = e.syscall;
  if (typeof e.path === 'string') wire.path = e.path;
  return wire;
}

export function fromWire(wire: WireError): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(wire.message);
  if (wire.code !== undefined) err.code = wire.code;
  if (wire.errno !== undefined) err.errno = wire.errno;
  if (wire.syscall !== undefined) err.syscall = wire.syscall;
  if (wire.path !== undefined) err.path = wire.path;
  return err;
}
