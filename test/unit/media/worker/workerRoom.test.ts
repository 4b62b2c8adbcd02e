/**
 * WorkerRoom's timeline rules that need no sockets: frames the worker's clock skipped
 * under overload still reach the recording (as silence), so a recording is never shorter
 * than the call (docs/architecture.md, the recording rules).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

  it('writes skipped frames as silence, in order with the frames that ran', async () => {
    const room = new WorkerRoom(1, host);
    const file = path.join(dir, 'r.wav');
    await room.startRecording({ path: file, channels: 2 });
    room.frame(1, 20);
    room.frame(2, 40);
    room.skipFrames(10); // frames 3..12 skipped by the clock
    room.frame(13, 260);
    expect(room.recordingErrors).toBe(0);
    host.retired.length = 0;
    const summary = await room.close();
    expect(summary).not.toBeNull();
    expect(summary!.frames).toBe(13);
    // Retired to the worker's totals once, when its last block is written.
    expect(host.retired).toEqual([{ bytes: 13 * 160 * 4, failed: false }]);
    const wav = await readFile(file);
    // 13 frames × 160 samples × 2 channels × 2 bytes after the 44-byte header.
    expect(wav.length).toBe(44 + 13 * 160 * 4);
    expect(wav.readUInt32LE(40)).toBe(13 * 160 * 4);
  });

  it('ignores skipped frames when not recording', async () => {
    const room = new WorkerRoom(2, host);
    room.skipFrames(5);
    expect(await room.close()).toBeNull();
  });
});
