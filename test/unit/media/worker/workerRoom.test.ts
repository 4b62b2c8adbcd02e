/**
 * WorkerRoom's timeline rules that need no sockets: frames the worker's clock skipped
 * under overload still reach the recording (as silence), so a recording is never shorter
 * than the call (docs/architecture.md, the recording rules).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { WorkerRoom } from '../../../../media/worker/workerRoom.js';

const host = {
  relay: (): void => {},
  jitterOptions: { minDepthMs: 40, maxDepthMs: 200 },
  retireJitter: (): void => {},
  retired: [] as { bytes: number; failed: boolean }[],
  retireRecording(bytes: number, failed: boolean): void {
    this.retired.push({ bytes, failed });
  },
};

describe('WorkerRoom recording timeline', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'callwatch-room-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a recording is not clocked: it is written up to each drain, and to its stop', async () => {
    const room = new WorkerRoom(1, host);
    const file = path.join(dir, 'r.wav');
    const t0 = performance.now();
    await room.startRecording({ path: file, channels: 2 });
    expect(room.clocked).toBe(false);
    // Nothing arrived: the drains write silence up to now − 100 ms (the reorder window),
    // each no further than the drain before it (packets that waited out a stall are read
    // between two drains).
    room.drainRecording(t0 + 4_900);
    room.drainRecording(t0 + 5_000);
    expect(room.recordingErrors).toBe(0);
    host.retired.length = 0;
    const summary = await room.close();
    expect(summary).not.toBeNull();
    // close() completes the file to the stop time (now), never shorter than a drain wrote.
    expect(summary!.frames).toBeGreaterThanOrEqual((5_000 - 100) / 20 - 1);
    expect(summary!.frames).toBeLessThanOrEqual(5_000 / 20 + 1);
    expect(host.retired).toEqual([{ bytes: summary!.frames * 160 * 4, failed: false }]);
    const wav = await readFile(file);
    expect(wav.length).toBe(44 + summary!.frames * 160 * 4);
    expect(wav.readUInt32LE(40)).toBe(summary!.frames * 160 * 4);
  });

  it('a room that does not record has nothing to drain', async () => {
    const room = new WorkerRoom(2, host);
    room.drainRecording(performance.now());
    expect(await room.close()).toBeNull();
  });
});
