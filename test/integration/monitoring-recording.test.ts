/**
 * The recording tap (recordingTap.ts) through the real server: a normal call leaves a
 * WAV whose header sizes match the file and a sidecar naming the call, its parties and
 * times; `format: mono` writes one channel; `record: false` on the agent's extension, or
 * recording.enabled false, writes nothing. Raw SIP calls (trunk → 1002) with FakePhones.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { audioPort, responseTo, sdp } from './calls-rawRig.js';
import { sleep } from './media/fakePhone.js';
import { type ExtensionSpec } from '../helpers/server.js';
import type { ConfigObject } from '../helpers/server.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  completedSidecar,
  startMonitorRig,
  talk,
  type MonitorRig,
} from './monitoring-rig.js';

let rig: MonitorRig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** A 1.5 s call with both parties talking, hung up by the customer; the recording dir. */
async function oneCall(
  overrides: ConfigObject,
  extensions?: readonly ExtensionSpec[],
): Promise<{ dir: string; callId: string }> {
  rig = await startMonitorRig(overrides, extensions);
  const r = rig;
  const [customer, agent] = [await r.phone(), await r.phone()];
  const call = await r.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
  const talkers = [
    talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ),
    talk(agent, audioPort(call.sdpToB), AGENT_HZ),
  ];
  await sleep(1500);
  const bye = call.b.nextRequest('BYE', r.callee.received.length);
  expect((await call.a.transact('BYE')).status).toBe(200);
  r.callee.send(responseTo(await bye, 200), r.server.sipPort);
  await Promise.all(talkers.map((t) => t.stop()));
  await r.noLiveCalls();
  return {
    dir: (r.server.config.recording as { directory: string }).directory,
    callId: call.a.callId,
  };
}

/** The RIFF chunks of a WAV file: id, offset of the data, size. */
function chunks(buf: Buffer): Array<{ id: string; offset: number; size: number }> {
  const out: Array<{ id: string; offset: number; size: number }> = [];
  for (let at = 12; at + 8 <= buf.length;) {
    const size = buf.readUInt32LE(at + 4);
    out.push({ id: buf.toString('latin1', at, at + 4), offset: at + 8, size });
    at += 8 + size + (size % 2);
  }
  return out;
}

function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('call recordings', () => {
  it('a normal call: sidecar with the call and parties, WAV sizes matching the file', async () => {
    const { dir, callId } = await oneCall({});
    const sidecar = await completedSidecar(dir, callId);
    expect(sidecar).toMatchObject({
      callId,
      direction: 'inbound',
      endReason: 'caller-hangup',
      format: { channels: 2 },
      parties: {
        customer: { side: 'caller', number: 'customer', extension: null },
        agent: { side: 'callee', number: '1002', extension: '1002' },
      },
      monitoring: [],
    });
    for (const t of [sidecar.startedAt, sidecar.answeredAt, sidecar.endedAt]) {
      expect(Number.isNaN(Date.parse(t ?? ''))).toBe(false);
    }
    expect(Date.parse(sidecar.endedAt!)).toBeGreaterThanOrEqual(Date.parse(sidecar.answeredAt!));
    expect(sidecar.audioBytes).toBeGreaterThan(0);

    const wav = readFileSync(sidecar.file);
    expect(statSync(sidecar.file).size).toBe(wav.length);
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.toString('latin1', 8, 12)).toBe('WAVE');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    const list = chunks(wav);
    const fmt = list.find((c) => c.id === 'fmt ');
    const data = list.find((c) => c.id === 'data');
    expect(fmt).toBeDefined();
    expect(data).toBeDefined();
    expect(wav.readUInt16LE(fmt!.offset + 2)).toBe(2); // channels
    expect(wav.readUInt32LE(fmt!.offset + 4)).toBe(8000);
    expect(data!.offset + data!.size).toBe(wav.length);
    expect(data!.size).toBe(sidecar.audioBytes);
    // 1.5 s of stereo 16-bit at 8 kHz is 48 000 bytes; allow for set-up and teardown.
    expect(data!.size).toBeGreaterThan(32000);
  }, 30000);

  it('recordings, sidecars and the audit log: files 0640 in 0750 folders by default', async () => {
    const { dir, callId } = await oneCall({});
    const sidecar = await completedSidecar(dir, callId);
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect(mode(sidecar.file)).toBe('640');
    expect(mode(sidecar.file.replace(/\.wav$/, '.json'))).toBe('640');
    expect(mode(dir)).toBe('750');
    const audit = (rig!.server.config.audit as { file: string }).file;
    expect(mode(audit)).toBe('640');
    expect(mode(path.dirname(audit))).toBe('750');
  }, 30000);

  it('recording.fileMode and dirMode set the modes', async () => {
    const { dir, callId } = await oneCall({ recording: { fileMode: '0600', dirMode: '0700' } });
    const sidecar = await completedSidecar(dir, callId);
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect(mode(sidecar.file)).toBe('600');
    expect(mode(sidecar.file.replace(/\.wav$/, '.json'))).toBe('600');
    expect(mode(dir)).toBe('700');
  }, 30000);

  it('format mono: a one-channel WAV', async () => {
    const { dir, callId } = await oneCall({ recording: { format: 'mono' } });
    const sidecar = await completedSidecar(dir, callId);
    expect(sidecar.format.channels).toBe(1);
    const wav = readFileSync(sidecar.file);
    const fmt = chunks(wav).find((c) => c.id === 'fmt ');
    expect(wav.readUInt16LE(fmt!.offset + 2)).toBe(1);
    const data = chunks(wav).find((c) => c.id === 'data');
    expect(data!.offset + data!.size).toBe(wav.length);
    expect(data!.size).toBeGreaterThan(16000);
  }, 30000);

  it('record: false on the agent extension: no WAV, no sidecar', async () => {
    const { dir } = await oneCall({}, [
      { number: '1002', password: 'pw1002', record: false } as ExtensionSpec,
    ]);
    await sleep(500);
    expect(filesIn(dir)).toEqual([]);
  }, 30000);

  it('recording.enabled false: no WAV, no sidecar', async () => {
    const { dir } = await oneCall({ recording: { enabled: false } });
    await sleep(500);
    expect(filesIn(dir)).toEqual([]);
  }, 30000);

  it('recording.enabled false but record: true on the agent extension: recorded', async () => {
    const { dir, callId } = await oneCall({ recording: { enabled: false } }, [
      { number: '1002', password: 'pw1002', record: true } as ExtensionSpec,
    ]);
    expect((await completedSidecar(dir, callId)).audioBytes).toBeGreaterThan(0);
  }, 30000);
});
