/**
 * callwatch_recording_errors_total moves on a real server: with the recording directory
 * replaced by a regular file after the server made it at start-up (a start with a folder
 * it cannot make is refused), an answered call's recording fails to start, and /metrics counts it at the start stage (the CallwatchRecordingErrors alert's
 * input). The call itself goes on: a failed recording never drops a call.
 *
 * A write failure (the server's file size limit: EFBIG, as a full disk or a quota would
 * fail it) is counted while the call still runs, from the media worker's periodic
 * report, and only once: ending the call adds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import { type MetricSample } from '../helpers/server.js';
import { sdp } from './calls-rawRig.js';
import { eventually, startMonitorRig, type MonitorRig } from './monitoring-rig.js';

let rig: MonitorRig;
let dir: string;

beforeAll(async () => {
  dir = makeTempDir('recording-errors');
  const recordings = path.join(dir, 'recordings');
  rig = await startMonitorRig({ recording: { enabled: true, directory: recordings } });
  rmSync(recordings, { recursive: true });
  writeFileSync(recordings, 'not a directory');
}, 30000);

afterAll(async () => {
  await rig?.close();
  if (dir) removeTempDir(dir);
});

const errors = (samples: MetricSample[], stage: string) =>
  samples.find((s) => s.name === 'callwatch_recording_errors_total' && s.labels.stage === stage)
    ?.value;

describe('recording errors metric', () => {
  it('counts a recording that could not start, and the call goes on', async () => {
    const before = await rig.server.metrics();
    expect(errors(before, 'start')).toBe(0);
    expect(errors(before, 'write')).toBe(0);

    const [customer, agent] = [await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    let samples: MetricSample[] = before;
    expect(
      await eventually(async () => {
        samples = await rig.server.metrics();
        return errors(samples, 'start') === 1;
      }, 5000),
    ).toBe(true);
    expect(errors(samples, 'write')).toBe(0);
    expect(samples.find((s) => s.name === 'callwatch_recordings_active')?.value).toBe(0);
    expect(
      samples
        .filter((s) => s.name === 'callwatch_calls_active')
        .reduce((sum, s) => sum + s.value, 0),
    ).toBe(1);

    await rig.hangUp(call);
  }, 30000);
});

describe('recording write errors metric', () => {
  let writeRig: MonitorRig | undefined;
  let writeDir: string | undefined;
  /** Well under a second of stereo audio (32 kB/s): the first block written fails. */
  const MAX_FILE_BYTES = 16 * 1024;

  beforeAll(async () => {
    writeDir = makeTempDir('recording-write-errors');
    writeRig = await startMonitorRig(
      { recording: { enabled: true, directory: writeDir } },
      undefined,
      { maxFileBytes: MAX_FILE_BYTES },
    );
  }, 30000);

  afterAll(async () => {
    await writeRig?.close();
    if (writeDir) removeTempDir(writeDir);
  });

  it('counts a write error during the call, once', async () => {
    const r = writeRig!;
    expect(errors(await r.server.metrics(), 'write')).toBe(0);
    const [customer, agent] = [await r.phone(), await r.phone()];
    const call = await r.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });

    // The recording runs into the limit about a second in; the worker's next report
    // (every 5 s) carries the error while the call is still up.
    let samples: MetricSample[] = [];
    expect(
      await eventually(async () => {
        samples = await r.server.metrics();
        return errors(samples, 'write') === 1;
      }, 15000),
    ).toBe(true);
    expect(
      samples
        .filter((s) => s.name === 'callwatch_calls_active')
        .reduce((sum, s) => sum + s.value, 0),
    ).toBe(1);
    expect(errors(samples, 'start')).toBe(0);
    const wavs = readdirSync(writeDir!).filter((f) => f.endsWith('.wav'));
    expect(wavs).toHaveLength(1);
    expect(statSync(path.join(writeDir!, wavs[0]!)).size).toBeLessThanOrEqual(MAX_FILE_BYTES);

    // The call ends: the tap logs the failure (having its summary) but does not count it
    // again, and the worker's reports after the end (its legs gone) keep the total at 1.
    await r.hangUp(call);
    await r.server.waitForLog((e) => e.msg === 'recording failed', 10000);
    expect(errors(await r.server.metrics(), 'write')).toBe(1);
    expect(
      await eventually(async () => {
        samples = await r.server.metrics();
        return samples.find((s) => s.name === 'callwatch_media_legs')?.value === 0;
      }, 15000),
    ).toBe(true);
    expect(errors(samples, 'write')).toBe(1);
  }, 60000);
});
