/**
 * callwatch_recording_errors_total moves on a real server: with the recording directory
 * impossible to create (its parent is a regular file), an answered call's recording fails
 * to start, and /metrics counts it at the start stage (the CallwatchRecordingErrors alert's
 * input). The call itself goes on: a failed recording never drops a call.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import { type MetricSample } from '../helpers/server.js';
import { sdp } from './calls-rawRig.js';
import { eventually, startMonitorRig, type MonitorRig } from './monitoring-rig.js';

let rig: MonitorRig;
let dir: string;

beforeAll(async () => {
  dir = makeTempDir('recording-errors');
  writeFileSync(path.join(dir, 'not-a-directory'), 'x');
  rig = await startMonitorRig({
    recording: { enabled: true, directory: path.join(dir, 'not-a-directory', 'recordings') },
  });
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
