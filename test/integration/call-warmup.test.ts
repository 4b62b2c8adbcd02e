/**
 * The call warm-up (docs/architecture.md §8.5) on a real server: synthetic calls through
 * throwaway call code and the real media engine before the SIP sockets open, in every
 * codec the server speaks. It must leave no trace (no call, leg, binding, metric or log
 * line of its own), and the server then carries a real call (SIPp → callwatch → SIPp,
 * RTP both ways) as usual and shuts down cleanly.
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
import { assertSippExit, authRow, describeSipp, runSipp, sippScenario } from '../helpers/sipp.js';

const BUDGET_MS = 400;

let server: ServerHandle;
let dir: string;
let uacPort: number;
let uasPort: number;

beforeAll(async () => {
  dir = makeTempDir('call-warmup');
  uacPort = await allocatePort();
  uasPort = await allocatePort();
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { workers: 2, portRange: await allocateRtpRange() },
      calls: { warmup: { budgetMs: BUDGET_MS }, codecs: ['PCMU', 'PCMA', 'G722', 'opus'] },
      trunks: [
        {
          name: 'carrier',
          host: '127.0.0.1',
          port: uacPort,
          sourcePort: uacPort,
          dids: { '5550102': '1002' },
        },
      ],
    },
    { extensions: ['1002'].map((n) => ({ number: n, password: `pw${n}` })) },
  );
}, 30000);

afterAll(async () => {
  await server?.stop();
  if (dir) removeTempDir(dir);
});

const sum = (samples: Awaited<ReturnType<ServerHandle['metrics']>>, name: string): number =>
  samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);

describe('call warm-up', () => {
  it('placed calls within its budget before the server listened, and left nothing behind', async () => {
    const listening = server.logs().find((l) => l.msg === 'listening');
    const warmup = listening?.callWarmup as { calls: number; ms: number } | undefined;
    // Four codecs in turn: at least one call of each (a cold start makes the first slow).
    expect(warmup?.calls).toBeGreaterThanOrEqual(4);
    // Calls start while the budget lasts; the last ones then finish (30 ms of talk each).
    expect(warmup?.ms).toBeGreaterThanOrEqual(BUDGET_MS);
    expect(warmup?.ms).toBeLessThan(BUDGET_MS + 3000);
    expect(server.logs().filter((l) => l.msg === 'call warm-up stopped early')).toEqual([]);

    const calls = await server.httpGet('/v1/calls');
    expect(calls.status).toBe(200);
    expect(calls.json).toEqual(expect.objectContaining({ calls: [] }));
    expect(await server.registrations()).toEqual([]);
    const metrics = await server.metrics();
    for (const name of [
      'callwatch_calls_active',
      'callwatch_call_attempts_total',
      'callwatch_call_outcomes_total',
      'callwatch_media_legs',
      'callwatch_rtp_packets_total',
      'callwatch_rtcp_packets_total',
      'callwatch_sip_requests_total',
      'callwatch_sip_responses_total',
      'callwatch_sip_transactions_active',
    ]) {
      expect([name, sum(metrics, name)]).toEqual([name, 0]);
    }
    // Nothing of its parties or their calls reached a log line.
    expect(server.output()).not.toMatch(/warm-up\.|phone-hangs-up|trunk-hangs-up/);
  });

  it('carries a real call afterwards: SIPp to a SIPp phone, RTP both ways', async () => {
    const reg = await runSipp({
      scenario: 'reg_auth.xml',
      remote: `127.0.0.1:${server.sipPort}`,
      localPort: uasPort,
      calls: 1,
      injection: { rows: [authRow('1002', 'pw1002', `sip:1002@127.0.0.1:${uasPort}`, '600')] },
    });
    assertSippExit(reg);
    const tone = path.join(dir, 'tone.alaw');
    const synth = ['synth', '5', 'sine', '1000'];
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
      ...synth,
    ]);
    const fixture = (name: string, drop: string) => {
      const text = readFileSync(sippScenario(name), 'utf8')
        .replaceAll('TONE_FILE', tone)
        .replace(new RegExp(`<!-- ${drop} -->[\\s\\S]*?<!-- /${drop} -->`), '');
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const media = await allocatePortBlock(40);
    const callee = runSipp({
      scenario: fixture('call_uas.xml', 'BYE-CALLEE'),
      localPort: uasPort,
      calls: 1,
      timeoutSec: 20,
      traceMessages: true,
      extraArgs: ['-mi', '127.0.0.1', '-mp', String(media)],
    });
    await waitForUdpBound(uasPort);
    const caller = await runSipp({
      scenario: fixture('call_uac.xml', 'BYE-CALLEE'),
      remote: `127.0.0.1:${server.sipPort}`,
      localPort: uacPort,
      calls: 1,
      timeoutSec: 20,
      traceMessages: true,
      extraArgs: ['-s', '5550102', '-mi', '127.0.0.1', '-mp', String(media + 20)],
    });
    const answered = await callee;
    if (caller.exitCode !== 0 || answered.exitCode !== 0) {
      throw new Error(`caller:\n${describeSipp(caller)}\ncallee:\n${describeSipp(answered)}`);
    }
    const ended = await server.waitForLog((e) => e.msg === 'call ended');
    expect(ended).toEqual(expect.objectContaining({ answered: true }));
    // Both directions relayed: the engine counted the tone's packets in and out.
    expect(await server.metric('callwatch_rtp_packets_total')).toBeGreaterThan(100);
  }, 40000);

  it('shuts down cleanly', async () => {
    expect(await server.stop()).toBe(0);
  });
});
