/**
 * The call's own timers, with SIPp on both sides (the caller is the trunk): a callee
 * that never answers is CANCELled after calls.noAnswerTimeoutSec and the caller gets
 * 480; an answered call without any RTP is ended after media.rtpTimeoutSec with a BYE
 * to both sides (end reason media-timeout).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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

let server: ServerHandle;
let dir: string;
let uacPort: number;
let uasPort: number;
let mediaBase: number;

beforeAll(async () => {
  dir = makeTempDir('calls-timeouts');
  uacPort = await allocatePort();
  uasPort = await allocatePort();
  mediaBase = await allocatePortBlock(40);
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { workers: 1, rtpTimeoutSec: 2, portRange: await allocateRtpRange() },
      calls: { noAnswerTimeoutSec: 2 },
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
    { extensions: [{ number: '1002', password: 'pw1002' }] },
  );
  assertSippExit(
    await runSipp({
      scenario: 'reg_auth.xml',
      remote: `127.0.0.1:${server.sipPort}`,
      localPort: uasPort,
      calls: 1,
      injection: { rows: [authRow('1002', 'pw1002', `sip:1002@127.0.0.1:${uasPort}`, '600')] },
    }),
  );
}, 30000);

afterAll(async () => {
  await server?.stop();
  if (dir) removeTempDir(dir);
});

/** A fixture without RTP, one BYE block kept (both wait for the server's BYE). */
function scenario(name: string, keep: 'BYE-CALLER' | 'BYE-CALLEE', status?: number): string {
  let text = readFileSync(sippScenario(name), 'utf8')
    .replace(/<action><exec rtp_stream="TONE_FILE[^"]*"\/><\/action>/, '')
    .replaceAll('EXPECTED_STATUS', String(status ?? 0));
  const drop = keep === 'BYE-CALLER' ? 'BYE-CALLEE' : 'BYE-CALLER';
  text = text.replace(new RegExp(`<!-- ${drop} -->[\\s\\S]*?<!-- /${drop} -->`), '');
  const file = path.join(dir, `${name.replace('.xml', '')}-${keep}.xml`);
  writeFileSync(file, text);
  return file;
}

async function both(uasFile: string, uacFile: string): Promise<void> {
  const callee = runSipp({
    scenario: uasFile,
    localPort: uasPort,
    calls: 1,
    timeoutSec: 15,
    extraArgs: ['-mi', '127.0.0.1', '-mp', String(mediaBase)],
  });
  await waitForUdpBound(uasPort); // SIPp listens: now the server can reach it
  const caller = await runSipp({
    scenario: uacFile,
    remote: `127.0.0.1:${server.sipPort}`,
    localPort: uacPort,
    calls: 1,
    timeoutSec: 15,
    extraArgs: ['-s', '5550102', '-mi', '127.0.0.1', '-mp', String(mediaBase + 20)],
  });
  const answered = await callee;
  if (caller.exitCode !== 0 || answered.exitCode !== 0) {
    throw new Error(
      `caller:\n${describeSipp(caller)}\n\ncallee:\n${describeSipp(answered)}\n\nserver:\n${server
        .output()
        .slice(-5000)}`,
    );
  }
}

const ends = () => server.logs().filter((e) => e.msg === 'call ended');

/**
 * The end of the call after the first `before` ones: SIPp may exit on the BYE before the
 * server's "call ended" line has come through its stdout, so this waits for the line
 * rather than reading the last one there is (which could be the previous test's call).
 */
async function endAfter(before: number): Promise<unknown> {
  await server.waitForLog(() => ends().length > before, 10000);
  return ends()[before];
}

describe('call timers', () => {
  it('gives up an unanswered call: CANCEL to the callee, 480 to the caller', async () => {
    const before = ends().length;
    await both(
      scenario('uas_ring_cancel.xml', 'BYE-CALLER'),
      scenario('uac_rejected.xml', 'BYE-CALLER', 480),
    );
    expect(await endAfter(before)).toMatchObject({ reason: 'no-answer' });
  }, 30000);

  it('ends an answered call without RTP: BYE to both sides', async () => {
    // call_uas waits for a BYE (caller variant); call_uac waits for one (callee variant).
    const before = ends().length;
    await both(scenario('call_uas.xml', 'BYE-CALLER'), scenario('call_uac.xml', 'BYE-CALLEE'));
    expect(await endAfter(before)).toMatchObject({ reason: 'media-timeout' });
    const r = await server.httpGet('/v1/calls');
    expect(r.json).toEqual({ calls: [] });
  }, 30000);

  it('ends every call on shutdown: BYE to both sides before the server exits', async () => {
    const callee = runSipp({
      scenario: scenario('call_uas.xml', 'BYE-CALLER'),
      localPort: uasPort,
      calls: 1,
      timeoutSec: 15,
      extraArgs: ['-mi', '127.0.0.1', '-mp', String(mediaBase)],
    });
    await waitForUdpBound(uasPort); // SIPp listens: now the server can reach it
    const caller = runSipp({
      scenario: scenario('call_uac.xml', 'BYE-CALLEE'),
      remote: `127.0.0.1:${server.sipPort}`,
      localPort: uacPort,
      calls: 1,
      timeoutSec: 15,
      extraArgs: ['-s', '5550102', '-mi', '127.0.0.1', '-mp', String(mediaBase + 20)],
    });
    const before = ends().length;
    const answered = server.logs().filter((e) => e.msg === 'call answered').length;
    await server.waitForLog(
      () => server.logs().filter((e) => e.msg === 'call answered').length > answered,
      10000,
    );
    expect(await server.stop()).toBe(0);
    const [a, b] = await Promise.all([caller, callee]);
    if (a.exitCode !== 0 || b.exitCode !== 0) {
      throw new Error(`caller:\n${describeSipp(a)}\n\ncallee:\n${describeSipp(b)}`);
    }
    expect(await endAfter(before)).toMatchObject({ reason: 'server-shutdown' });
  }, 30000);
});
