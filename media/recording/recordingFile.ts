/**
 * The file side of a recording, shared by the WAV and Ogg Opus writers: creating the file
 * (never over an existing one, with its mode whatever the umask) and positional writes
 * that finish however many calls the file needs.
 */
import { open as openFile, type FileHandle } from 'node:fs/promises';

/** What a recorder needs of a file: a subset of node:fs/promises FileHandle. */
export interface RecordingFile {
  write(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
  /**
   * Writes the slices in order, each whole, stopping at the first that is not (an error
   * rejects); resolves with the bytes written over all of them. Where a file has it (the
   * writer thread's), a recorder sends a block and the header patch after it as one
   * operation, and may queue its close behind it: the file's ops run in the order called.
   */
  writeParts?(parts: readonly FilePart[]): Promise<number>;
}

/** A slice of a buffer and where it goes in the file. */
export interface FilePart {
  buf: Buffer;
  offset: number;
  length: number;
  position: number;
}

/** Where recorders get their files: the writer thread's client, or node:fs (tests). */
export type CreateRecordingFile = (path: string, mode: number) => Promise<RecordingFile>;

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Creates `path` (flag 'wx': rejects with EEXIST if it exists) with permissions `mode`,
 * applied again after open since open's mode is cut by the umask. A failed chmod closes
 * the file before rejecting.
 */
export async function createRecordingFile(path: string, mode: number): Promise<FileHandle> {
  const handle = await openFile(path, 'wx', mode);
  // A umask that leaves `mode` whole (the usual 022 or 027 for 0640) needs no chmod: one
  // system call and a promise less per recorded call.
  if ((mode & ~process.umask()) === mode) return handle;
  try {
    await handle.chmod(mode);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw asError(err);
  }
  return handle;
}

/**
 * Writes `length` bytes of `buf` at `position`, however many calls the file needs; a
 * write that accepts no bytes (which would loop forever) rejects with `shortWrite()`.
 */
export async function writeFully(
  file: RecordingFile,
  buf: Buffer,
  length: number,
  position: number,
  shortWrite: () => Error,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await file.write(buf, done, length - done, position + done);
    if (!(bytesWritten > 0)) throw shortWrite();
    done += bytesWritten;
  }
}
