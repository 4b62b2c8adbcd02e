/**
 * Starting a MediaEngine in tests. Jest runs the TypeScript sources, but a worker thread
 * runs plain JavaScript: the engine is pointed at the compiled worker in
 * dist/media/worker/main.js (and recording writer, dist/media/recording/writer/main.js), so `npm run build` must run before these tests (`npm test`
 * does). A build older than any media/ source fails here, loudly, rather than testing
 * stale code.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { MediaEngineOptions } from '../../../media/engine/engineOptions.js';
import type { PacketIoChoice } from '../../../media/worker/protocol.js';
import { allocatePortBlock } from '../../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WORKER_SCRIPT = join(ROOT, 'dist/media/worker/main.js');
export const WRITER_SCRIPT = join(ROOT, 'dist/media/recording/writer/main.js');

function assertFreshBuild(dir = join(ROOT, 'media')): void {
  for (const name of readdirSync(dir)) {
    const source = join(dir, name);
    if (statSync(source).isDirectory()) {
      assertFreshBuild(source);
      continue;
    }
    if (!name.endsWith('.ts')) continue;
    const built = join(ROOT, 'dist', source.slice(ROOT.length).replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
      throw new Error(`${built} is missing or older than ${source}: run npm run build first`);
    }
  }
}

/**
 * The packet io the media tests run on: CALLWATCH_MEDIA_IO=native|dgram, default native
 * (the engine's default). jest.config.js runs these tests once more with dgram, so both
 * implementations carry the same suite.
 */
export const MEDIA_IO: PacketIoChoice = readIo(process.env.CALLWATCH_MEDIA_IO);

function readIo(value: string | undefined): PacketIoChoice {
  if (value === undefined || value === '' || value === 'native') return 'native';
  if (value === 'dgram') return 'dgram';
  throw new Error(`CALLWATCH_MEDIA_IO=${value}: expected native or dgram`);
}

export interface EngineFixture {
  engine: MediaEngine;
  portMin: number;
  portMax: number;
}

/** An engine on 127.0.0.1 with its own free port range (`pairs` RTP/RTCP pairs). */
export async function startEngine(
  options: Partial<MediaEngineOptions> = {},
  pairs = 8,
): Promise<EngineFixture> {
  assertFreshBuild();
  const base = await allocatePortBlock(pairs * 2 + 1, { tcp: false });
  const portMin = base % 2 === 0 ? base : base + 1;
  const portMax = portMin + pairs * 2 - 1;
  const engine = await MediaEngine.create({
    address: '127.0.0.1',
    portRange: { min: portMin, max: portMax },
    rtpTimeoutMs: 0,
    latchWindowMs: 2000,
    workers: 1,
    workerScript: WORKER_SCRIPT,
    io: MEDIA_IO,
    recordingWriterScript: WRITER_SCRIPT,
    ...options,
  });
  // The io asked for is the one that runs: no silent fallback to dgram in a test run
  // (asked of the real worker only: tests of worker failures bring scripted ones).
  const ios =
    options.workerScript === undefined ? (await engine.getStats()).map((s) => s.worker.io) : [];
  if (ios.some((io) => io !== (options.io ?? MEDIA_IO))) {
    await engine.close();
    throw new Error(`media workers run ${ios.join(', ')}, not ${options.io ?? MEDIA_IO}`);
  }
  return { engine, portMin, portMax };
}
