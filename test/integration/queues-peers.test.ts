/**
 * A queue with real peers (docs/architecture.md §9.5): SIPp as the trunk calls DID
 * 5550200 → queue 600 (ringall, members 1002 and 1003, two baresip phones). 1003 answers
 * at once (auto-answer), 1002 only rings (manual): the first to answer gets the call, the
 * other is cancelled. SIPp streams a 1000 Hz A-law tone: the answering agent must hear it
 * (its sndfile recording), and `/v1/calls?queue=600` lists the call with its agent. The
 * caller's side of the audio (hold tone, then the agent's tone) is checked on raw RTP in
 * queues.test.ts, where the caller is a FakePhone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyzeTone, describeTone, hasTone } from '../helpers/goertzel.js';
import { heardAudio, sleep, startPhoneServer, waitFor } from '../helpers/phoneScene.js';
import { allocatePort, allocatePortBlock } from '../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import type { ServerHandle } from '../helpers/server.js';
import { describeSipp, runSipp, sippScenario } from '../helpers/sipp.js';
import { startBaresip, tracedRequest, type BaresipPhone } from '../helpers/baresip.js';

const CALLER_HZ = 1000;
const AGENT_HZ = 440;

let server: ServerHandle;
let dir: string;
let tone: string;
let trunkPort: number;
let mediaBase: number;

beforeAll(async () => {
  dir = makeTempDir('queues-peers');
  tone = path.join(dir, 'tone.alaw');
  execFileSync(
    'sox',
    ['-n', '-r', '8000', '-c', '1', '-e', 'a-law', '-t', 'raw', tone].concat([
      'synth',
      '12',
      'sine',
      String(CALLER_HZ),
    ]),
  );
  trunkPort = await allocatePort();
  mediaBase = await allocatePortBlock(20);
  server = await startPhoneServer(
    {
      trunks: [
        {
          name: 'carrier',
          host: '127.0.0.1',
          port: trunkPort,
          sourcePort: trunkPort,
          dids: { '5550200': '600' },
        },
      ],
      queues: [{ number: '600', name: 'Support', members: ['1002', '1003'], ringTimeSec: 20 }],
    },
    ['1002', '1003'].map((n) => ({ number: n, password: `pw${n}` })),
    40,
  );
}, 30000);

afterAll(async () => {
  await server?.stop();
  if (dir) removeTempDir(dir);
});

/** A baresip agent playing AGENT_HZ, auto-answering or only ringing; kept in `started`. */
async function agent(
  user: string,
  answerMode: 'auto' | 'manual',
  started: BaresipPhone[],
): Promise<BaresipPhone> {
  const p = await startBaresip({
    user,
    password: `pw${user}`,
    serverPort: server.sipPort,
    toneHz: AGENT_HZ,
    answerMode,
  });
  started.push(p);
  await p.waitForRegistration(10000);
  return p;
}

describe('a queue with SIPp as the trunk and baresip agents', () => {
  it('ringall: both agents ring, the first to answer gets the call, the other is cancelled', async () => {
    const started: BaresipPhone[] = [];
    try {
      const ringing = await agent('1002', 'manual', started);
      const answering = await agent('1003', 'auto', started);
      let text = readFileSync(sippScenario('call_uac.xml'), 'utf8').replaceAll('TONE_FILE', tone);
      text = text.replace(/<!-- BYE-CALLEE -->[\s\S]*?<!-- \/BYE-CALLEE -->/, '');
      text = text.replace('<pause milliseconds="3000"/>', '<pause milliseconds="6000"/>');
      const file = path.join(dir, 'queue_uac.xml');
      writeFileSync(file, text);
      const caller = runSipp({
        scenario: file,
        remote: `127.0.0.1:${server.sipPort}`,
        localPort: trunkPort,
        calls: 1,
        timeoutSec: 30,
        traceMessages: true,
        extraArgs: ['-s', '5550200', '-mi', '127.0.0.1', '-mp', String(mediaBase)],
      });
      await answering.waitForEvent('CALL_ESTABLISHED', 10000);
      // The ringing phone was rung too, and is cancelled once 1003 answered.
      await ringing.waitForEvent('CALL_CLOSED', 10000);
      const cancel = tracedRequest('received', 'CANCEL');
      expect((await ringing.waitForTrace(cancel)).some(cancel)).toBe(true);
      expect(
        await waitFor(async () => {
          const r = await server.httpGet('/v1/calls?queue=600');
          const calls = (r.json as { calls: Array<{ agent: string; queue: unknown }> }).calls;
          return calls.length === 1 && calls[0]?.agent === '1003';
        }, 3000),
      ).toBe(true);
      const done = await caller;
      if (done.exitCode !== 0) throw new Error(describeSipp(done));
      await answering.waitForEvent('CALL_CLOSED', 10000);
      await sleep(200);
      const heard = heardAudio(answering);
      expect({
        heard: describeTone(analyzeTone(heard, CALLER_HZ)),
        ok: hasTone(heard, CALLER_HZ),
      }).toMatchObject({ ok: true });
      expect(
        await waitFor(async () => {
          const r = await server.httpGet('/v1/calls');
          return (r.json as { calls: unknown[] }).calls.length === 0;
        }, 3000),
      ).toBe(true);
    } finally {
      await Promise.all(started.map((p) => p.kill()));
    }
  }, 60000);
});
