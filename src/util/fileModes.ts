/**
 * Permissions of what we write that holds customers' voices and numbers (recordings,
 * their sidecars, the audit log): files 0640 and folders 0750 by default (config
 * `recording.fileMode`/`dirMode`, `audit.fileMode`/`dirMode`). The mode given to open or
 * mkdir is cut by the process umask, so whatever we create is chmod-ed to the exact mode
 * right after (an existing folder is left alone: it may be shared, e.g. /var/lib).
 *
 * `ensureDir` walks up to the nearest existing ancestor and creates the missing folders
 * one by one. It does not use `mkdir({ recursive: true })`, which on Node 20 never
 * returns for a path under /proc (it retries the ENOENT forever).
 */
import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export const DEFAULT_FILE_MODE = 0o640;
export const DEFAULT_DIR_MODE = 0o750;

/** 0o640 → "0640" (for messages and logs). */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Creates `dir` and its missing parents with `mode` (exactly); checks it is a folder. */
export async function ensureDir(dir: string, mode: number): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(dir); ;) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch (err) {
      const parent = dirname(p);
      if (codeOf(err) !== 'ENOENT' || parent === p) throw err;
      missing.push(p);
      p = parent;
      continue;
    }
    if (!isDir) {
      throw Object.assign(new Error(`ENOTDIR: ${p} is not a directory`), { code: 'ENOTDIR' });
    }
    break;
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d, { mode });
    } catch (err) {
      if (codeOf(err) === 'EEXIST' && (await stat(d)).isDirectory()) continue; // a race: theirs
      throw err;
    }
    await chmod(d, mode);
  }
}
