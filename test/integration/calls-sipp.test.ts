/**
 * SIPp caller → callwatch → SIPp callee, with RTP both ways (rtp_stream of a raw A-law
 * tone). The caller is the trunk (source address and port = the configured trunk), so
 * it dials DIDs: 5550102 → 1002 (the SIPp callee, registered by a SIPp REGISTER from
 * its own port), 5550103 → 1003 (never registered), 5550199 → no such DID. SIPp must
 * exit 0 on both sides in every case, and no call may be left afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  allocatePort,
  allocatePortBlock,
  allocateRtpRange,
  waitForUdpBound,
} from '../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import { PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';
import {
  assertSippExit,
  authRow,
  describeSipp,
  runSipp,
  sippScenario,
  type SippResult,
} from '../helpers/sipp.js';

let server: ServerHandle;
let dir: string;
let tone: string;
let uacPort: number;
let uasPort: number;
let mediaBase: number;

beforeAll(async () => {
  dir = makeTempDir('calls-sipp');
  tone = path.join(dir, 'tone.alaw');
  execFileSync('sox', [
    '-n',
    '-r',
    '8000',
    '-c',
    '1',
    '-e',
    'a-law',
    '-t',
    'raw',
    tone,
    'synth',
    '10',
    'sine',
    '1000',
  ]);
  uacPort = await allocatePort();
  uasPort = await allocatePort();
  mediaBase = await allocatePortBlock(40);
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { workers: 1, portRange: await allocateRtpRange() },
      calls: { noAnswerTimeoutSec: 10 },
      trunks: [
        {
          name: 'carrier',
          host: '127.0.0.1',
          port: uacPort,
          sourcePort: uacPort,
          prefixes: ['0'],
          stripPrefix: true,
          dids: { '5550102': '1002', '5550103': '1003' },
        },
      ],
    },
    {
      extensions: ['1001', '1002', '1003'].map((n) => ({ number: n, password: `pw${n}` })),
    },
  );
  const reg = await runSipp({
    scenario: 'reg_auth.xml',
    remote: `127.0.0.1:${server.sipPort}`,
    localPort: uasPort,
    calls: 1,
    injection: { rows: [authRow('1002', 'pw1002', `sip:1002@127.0.0.1:${uasPort}`, '600')] },
  });
  assertSippExit(reg);
}, 30000);

afterAll(async () => {
  await server?.stop();
  if (dir) removeTempDir(dir);
});

/** A fixture with TONE_FILE / EXPECTED_STATUS replaced and one BYE block kept. */
function scenario(
  name: string,
  opts: { hangup?: 'caller' | 'callee'; status?: number } = {},
): string {
  let text = readFileSync(sippScenario(name), 'utf8').replaceAll('TONE_FILE', tone);
  if (opts.status !== undefined) text = text.replaceAll('EXPECTED_STATUS', String(opts.status));
  const drop = opts.hangup === 'caller' ? 'BYE-CALLEE' : 'BYE-CALLER';
  text = text.replace(new RegExp(`<!-- ${drop} -->[\\s\\S]*?<!-- /${drop} -->`), '');
  const file = path.join(
    dir,
    `${name.replace('.xml', '')}-${opts.hangup ?? ''}${opts.status ?? ''}.xml`,
  );
  writeFileSync(file, text);
  return file;
}

function uas(file: string): Promise<SippResult> {
  return runSipp({
    scenario: file,
    localPort: uasPort,
    calls: 1,
    timeoutSec: 20,
    traceMessages: true,
    extraArgs: ['-mi', '127.0.0.1', '-mp', String(mediaBase)],
  });
}

function uac(file: string, service: string): Promise<SippResult> {
  return runSipp({
    scenario: file,
    remote: `127.0.0.1:${server.sipPort}`,
    localPort: uacPort,
    calls: 1,
    timeoutSec: 20,
    traceMessages: true,
    extraArgs: ['-s', service, '-mi', '127.0.0.1', '-mp', String(mediaBase + 20)],
  });
}

async function callThrough(uasFile: string, uacFile: string, service = '5550102'): Promise<void> {
  const callee = uas(uasFile);
  await waitForUdpBound(uasPort); // the callee listens
  const caller = await uac(uacFile, service);
  const answered = await callee;
  if (caller.exitCode !== 0 || answered.exitCode !== 0) {
    throw new Error(
      `caller:\n${describeSipp(caller)}\n\ncallee:\n${describeSipp(answered)}\n\nserver:\n${server
        .output()
        .slice(-6000)}`,
    );
  }
}

async function noLiveCalls(): Promise<void> {
  const end = Date.now() + 3000;
  let calls: unknown[] = [];
  while (Date.now() < end) {
    calls = ((await server.httpGet('/v1/calls')).json as { calls: unknown[] }).calls;
    if (calls.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(calls).toEqual([]);
}

describe('SIPp calls through the B2BUA', () => {
  it('connects a call with RTP both ways; BYE from the caller', async () => {
    await callThrough(
      scenario('call_uas.xml', { hangup: 'caller' }),
      scenario('call_uac.xml', { hangup: 'caller' }),
    );
    await noLiveCalls();
  }, 40000);

  it('connects a call; BYE from the callee', async () => {
    await callThrough(
      scenario('call_uas.xml', { hangup: 'callee' }),
      scenario('call_uac.xml', { hangup: 'callee' }),
    );
    await noLiveCalls();
  }, 40000);

  it('relays early media: the callee’s 183 with SDP reaches the caller with our SDP', async () => {
    const callee = uas(scenario('uas_early.xml', { hangup: 'caller' }));
    await waitForUdpBound(uasPort);
    const caller = await uac(scenario('call_uac.xml', { hangup: 'caller' }), '5550102');
    const answered = await callee;
    if (caller.exitCode !== 0 || answered.exitCode !== 0) {
      throw new Error(`caller:\n${describeSipp(caller)}\n\ncallee:\n${describeSipp(answered)}`);
    }
    const early = caller.messages.split('-----').find((m) => m.includes('SIP/2.0 183'));
    expect(early).toMatch(/m=audio \d+ RTP\/AVP 8/);
    expect(early).toMatch(/c=IN IP4 127\.0\.0\.1/);
    await noLiveCalls();
  }, 40000);

  it('relays a CANCEL before the answer (487 to the caller, CANCEL to the callee)', async () => {
    await callThrough(scenario('uas_ring_cancel.xml'), scenario('uac_cancel.xml'));
    await noLiveCalls();
  }, 40000);

  it('relays the callee’s 486 Busy Here', async () => {
    await callThrough(scenario('uas_reject.xml'), scenario('uac_rejected.xml', { status: 486 }));
    await noLiveCalls();
  }, 40000);

  it('relays hold (sendonly → recvonly) and resume re-INVITEs; answers a session refresh, UPDATE, OPTIONS and INFO in the dialog', async () => {
    await callThrough(scenario('uas_hold.xml'), scenario('uac_hold.xml', { hangup: 'caller' }));
    await noLiveCalls();
  }, 40000);

  it('relays hold and resume re-INVITEs from the callee side', async () => {
    await callThrough(scenario('uas_holds.xml'), scenario('uac_held.xml'));
    await noLiveCalls();
  }, 40000);

  it('answers 491 to the callee’s re-INVITE while the caller’s is being relayed (glare)', async () => {
    await callThrough(scenario('uas_glare.xml'), scenario('uac_hold.xml', { hangup: 'caller' }));
    await noLiveCalls();
  }, 40000);

  it('answers 404 for an unknown DID and 480 for an extension that is not registered', async () => {
    assertSippExit(await uac(scenario('uac_rejected.xml', { status: 404 }), '5550199'));
    assertSippExit(await uac(scenario('uac_rejected.xml', { status: 480 }), '5550103'));
    await noLiveCalls();
  }, 40000);

  it('sends an extension’s call to an outside number through the trunk (digest-authenticated caller)', async () => {
    // The trunk (127.0.0.1:uacPort) answers this time; 1001 dials 0 + number.
    const trunk = runSipp({
      scenario: scenario('call_uas.xml', { hangup: 'caller' }),
      localPort: uacPort,
      calls: 1,
      timeoutSec: 20,
      extraArgs: ['-mi', '127.0.0.1', '-mp', String(mediaBase)],
    });
    await waitForUdpBound(uacPort); // the trunk listens
    const caller = await runSipp({
      scenario: scenario('uac_auth_call.xml'),
      remote: `127.0.0.1:${server.sipPort}`,
      calls: 1,
      timeoutSec: 20,
      injection: { rows: [authRow('1001', 'pw1001')] },
      extraArgs: ['-s', '0555123', '-mi', '127.0.0.1', '-mp', String(mediaBase + 20)],
    });
    const answered = await trunk;
    if (caller.exitCode !== 0 || answered.exitCode !== 0) {
      throw new Error(`caller:\n${describeSipp(caller)}\n\ntrunk:\n${describeSipp(answered)}`);
    }
    const started = server.logs().filter((e) => e.msg === 'call started');
    expect(started.at(-1)).toMatchObject({
      caller: '1001',
      callee: '555123',
      direction: 'outbound',
    });
    await noLiveCalls();
  }, 40000);

  it('forks to every registered contact: the first 2xx wins, the other fork is CANCELled', async () => {
    // A second contact for 1002, from its own port: it rings until cancelled.
    const port2 = await allocatePort();
    assertSippExit(
      await runSipp({
        scenario: 'reg_auth.xml',
        remote: `127.0.0.1:${server.sipPort}`,
        localPort: port2,
        calls: 1,
        injection: { rows: [authRow('1002', 'pw1002', `sip:1002-b@127.0.0.1:${port2}`, '600')] },
      }),
    );
    const ringing = runSipp({
      scenario: scenario('uas_ring_cancel.xml'),
      localPort: port2,
      calls: 1,
      timeoutSec: 20,
      extraArgs: ['-mi', '127.0.0.1', '-mp', String(mediaBase + 10)],
    });
    await callThrough(
      scenario('call_uas.xml', { hangup: 'caller' }),
      scenario('call_uac.xml', { hangup: 'caller' }),
    );
    const cancelled = await ringing;
    if (cancelled.exitCode !== 0) throw new Error(`ringing fork:\n${describeSipp(cancelled)}`);
    expect(
      server
        .logs()
        .filter((e) => e.msg === 'call started')
        .at(-1),
    ).toMatchObject({ forks: 2 });
    await noLiveCalls();
  }, 40000);

  it('counts call attempts and outcomes by final status class', async () => {
    const samples = await server.metrics();
    const value = (name: string, labels: Record<string, string>) =>
      samples
        .filter(
          (m) => m.name === name && Object.entries(labels).every(([k, v]) => m.labels[k] === v),
        )
        .reduce((a, m) => a + m.value, 0);
    expect(value('callwatch_call_attempts_total', { direction: 'inbound' })).toBeGreaterThanOrEqual(
      6,
    );
    expect(
      value('callwatch_call_outcomes_total', { direction: 'inbound', class: '2xx' }),
    ).toBeGreaterThanOrEqual(4);
    expect(
      value('callwatch_call_outcomes_total', { direction: 'inbound', class: '4xx' }),
    ).toBeGreaterThanOrEqual(4);
    expect(value('callwatch_calls_active', {})).toBe(0);
  });
});
