/**
 * Monitoring metrics on /metrics (monitoringMetrics.ts) while a real monitored call runs:
 * sessions active by mode (1 during listen, moving to whisper on a mode change, 0 after),
 * sessions started, mode changes, recordings active, and the mixer counters once a
 * worker's periodic stats (every 5 s) have arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MetricSample } from '../helpers/server.js';
import { audioPort, responseTo, sdp, type RawDialog } from './calls-rawRig.js';
import { sleep } from './media/fakePhone.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  SUPERVISOR_HZ,
  answerBye,
  eventually,
  startMonitorRig,
  talk,
  type MonitorRig,
} from './monitoring-rig.js';

let rig: MonitorRig;

beforeAll(async () => {
  rig = await startMonitorRig();
}, 30000);

afterAll(async () => {
  await rig?.close();
});

function value(samples: MetricSample[], name: string, labels: Record<string, string> = {}) {
  const s = samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value;
}

const active = (samples: MetricSample[]) =>
  Object.fromEntries(
    ['listen', 'whisper', 'barge', 'takeover'].map((mode) => [
      mode,
      value(samples, 'callwatch_monitor_sessions_active', { mode }),
    ]),
  );

describe('monitoring metrics', () => {
  it('follow a listen session, its change to whisper, and its end', async () => {
    let m0 = await rig.server.metrics();
    expect(active(m0)).toEqual({ listen: 0, whisper: 0, barge: 0, takeover: 0 });
    expect(value(m0, 'callwatch_recordings_active')).toBe(0);

    const [customer, agent, supPhone] = [await rig.phone(), await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    const talkers = [
      talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ),
      talk(agent, audioPort(call.sdpToB), AGENT_HZ),
    ];
    const sup = await rig.extension('1005');
    const m = await sup.invite('*901002', sdp(supPhone.port));
    expect(m.final.status).toBe(200);
    const dialog = m.dialog as RawDialog;
    talkers.push(talk(supPhone, audioPort(m.final.body), SUPERVISOR_HZ));

    let samples = await rig.server.metrics();
    expect(active(samples)).toEqual({ listen: 1, whisper: 0, barge: 0, takeover: 0 });
    expect(value(samples, 'callwatch_monitor_sessions_total', { mode: 'listen' })).toBe(1);
    // The call's recording starts at answer without holding up the 200 (its file is created
    // by the media worker's writer), so under load it may become active a little later.
    expect(
      await eventually(async () => {
        samples = await rig.server.metrics();
        return value(samples, 'callwatch_recordings_active') === 1;
      }, 5000),
    ).toBe(true);

    const cseq = dialog.send('INFO', {
      body: 'Signal=5\r\nDuration=160\r\n',
      contentType: 'application/dtmf-relay',
    });
    expect((await sup.client.waitForResponse(dialog.callId, 'INFO', 3000, cseq)).status).toBe(200);
    expect(
      await eventually(async () => {
        samples = await rig.server.metrics();
        return value(samples, 'callwatch_monitor_mode_changes_total', { mode: 'whisper' }) === 1;
      }, 3000),
    ).toBe(true);
    expect(active(samples)).toEqual({ listen: 0, whisper: 1, barge: 0, takeover: 0 });

    // The mixer's counters come with the worker's periodic report (every 5 s); the bytes
    // written count once the recording's first block (1 s of audio) is on file, so a report
    // that came sooner after the answer has frames mixed and no bytes yet.
    expect(
      await eventually(async () => {
        samples = await rig.server.metrics();
        return (
          (value(samples, 'callwatch_mixer_frames_mixed_total') ?? 0) > 0 &&
          (value(samples, 'callwatch_recording_bytes_total') ?? 0) > 0
        );
      }, 17000),
    ).toBe(true);
    expect(value(samples, 'callwatch_mixer_tick_lateness_seconds_count')).toBeGreaterThan(0);
    expect(
      value(samples, 'callwatch_mixer_tick_lateness_seconds_bucket', { le: '+Inf' }),
    ).toBeGreaterThan(0);

    const supBye = answerBye(dialog, sup.client.received.length);
    const bye = call.b.nextRequest('BYE', rig.callee.received.length);
    expect((await call.a.transact('BYE')).status).toBe(200);
    rig.callee.send(responseTo(await bye, 200), rig.server.sipPort);
    await supBye;
    await Promise.all(talkers.map((t) => t.stop()));
    await rig.noLiveCalls();
    await sleep(200);
    m0 = await rig.server.metrics();
    expect(active(m0)).toEqual({ listen: 0, whisper: 0, barge: 0, takeover: 0 });
    expect(value(m0, 'callwatch_recordings_active')).toBe(0);
    expect(value(m0, 'callwatch_monitor_sessions_total', { mode: 'listen' })).toBe(1);
  }, 40000);
});
