/**
 * The fallback when the native addon does not load: the engine's choice warns once and
 * says dgram, and a worker told 'native' still gets a working io (dgram). The addon is
 * made unloadable by pointing CALLWATCH_NATIVE_ADDON at a file that is not one.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { MediaLogger } from '../../../../media/engine/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'callwatch-io-'));
const bogus = join(dir, 'callwatch_native.node');
writeFileSync(bogus, 'not an ELF file');
process.env.CALLWATCH_NATIVE_ADDON = bogus;
// Imported after the variable is set: the addon is loaded (and cached) on first use.
const { chooseIo, createPacketIo } = await import('../../../../media/io/ioChoice.js');

function recorder(): { logger: MediaLogger; warnings: { obj: object; msg?: string }[] } {
  const warnings: { obj: object; msg?: string }[] = [];
  const logger: MediaLogger = {
    child: () => logger,
    debug: () => {},
    info: () => {},
    warn: (obj, msg) => warnings.push({ obj, ...(msg !== undefined ? { msg } : {}) }),
    error: () => {},
  };
  return { logger, warnings };
}

describe('packet io choice without a loadable addon', () => {
  afterAll(() => {
    delete process.env.CALLWATCH_NATIVE_ADDON;
    rmSync(dir, { recursive: true, force: true });
  });

  it('falls back to dgram with one warning that says why', () => {
    const { logger, warnings } = recorder();
    expect(chooseIo('native', logger)).toBe('dgram');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/native packet io unavailable.*dgram/);
    expect(String((warnings[0]!.obj as { reason: string }).reason)).toContain(bogus);
  });

  it('does not warn when dgram is what was asked for', () => {
    const { logger, warnings } = recorder();
    expect(chooseIo('dgram', logger)).toBe('dgram');
    expect(warnings).toEqual([]);
  });

  it('gives a worker told native a working dgram io', async () => {
    const io = createPacketIo('native');
    expect(io.name).toBe('dgram');
    await io.close();
  });
});
