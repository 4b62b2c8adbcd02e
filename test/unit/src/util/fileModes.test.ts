import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir, formatMode } from '../../../../src/util/fileModes.js';

const root = mkdtempSync(join(tmpdir(), 'callwatch-modes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('ensureDir', () => {
  it('creates every missing folder with the exact mode, whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      await ensureDir(join(root, 'a', 'b', 'c'), 0o750);
    } finally {
      process.umask(old);
    }
    for (const p of ['a', 'a/b', 'a/b/c']) expect(formatMode(modeOf(join(root, p)))).toBe('0750');
  });

  it('leaves an existing folder as it is', async () => {
    await ensureDir(join(root, 'shared'), 0o755);
    await ensureDir(join(root, 'shared', 'rec'), 0o700);
    expect(modeOf(join(root, 'shared'))).toBe(0o755);
    expect(modeOf(join(root, 'shared', 'rec'))).toBe(0o700);
  });

  it('refuses a path under a regular file (ENOTDIR)', async () => {
    writeFileSync(join(root, 'file'), 'x');
    await expect(ensureDir(join(root, 'file', 'rec'), 0o750)).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
    await expect(ensureDir(join(root, 'file'), 0o750)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('fails (and returns) for a folder under /proc, where recursive mkdir would spin', async () => {
    await expect(ensureDir('/proc/callwatch-no-such/rec', 0o750)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
