/**
 * An INVITE without SDP (late offer, RFC 3261 §13.2.1, RFC 3264): the server offers to
 * the callee itself (its address, leg B's port, PCMU, PCMA, telephone-event); the
 * callee's answer sets leg B; the 200 to the caller carries the server's offer with the
 * callee's codec first; the caller's answer in the ACK sets leg A, transcoding when the
 * two chose differently. An ACK without a usable answer ends the call (BYE both sides).
 * Raw SIP on both sides (calls-rawRig.ts), raw RTP phones; then the same with SIPp.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Tone, waitFor } from './media/fakePhone.js';
import {
  DID,
  audioFormats,
  audioPort,
  callEndAfter,
  callStarts,
  responseTo,
  sdp,
  startRig,
  type RawCall,
  type Rig,
} from './calls-rawRig.js';
import { allocatePortBlock, waitForUdpBound } from '../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import { describeSipp, runSipp, sippScenario } from '../helpers/sipp.js';

let rig: Rig;
let dir: string;

beforeAll(async () => {
  dir = makeTempDir('calls-late-offer');
  rig = await startRig({ calls: { codecs: ['PCMU', 'PCMA'] } });
}, 30000);

afterAll(async () => {
  await rig?.close();
  if (dir) removeTempDir(dir);
});

/** The server BYEs both sides; both answered 200; no call left; the call started after the first `startsBefore` ended with reason media-error. */
async function endedByServer(call: RawCall, startsBefore: number): Promise<void> {
  const byeA = await rig.trunk.waitFor(
    (m) => !m.isResponse && m.method === 'BYE' && m.callId === call.a.callId,
  );
  rig.trunk.send(responseTo(byeA.message, 200), rig.server.sipPort);
  rig.callee.send(responseTo(await rig.calleeGets(call, 'BYE'), 200), rig.server.sipPort);
  await rig.noLiveCalls();
  expect(await callEndAfter(rig.server, startsBefore)).toMatchObject({ reason: 'media-error' });
}

describe('INVITE without SDP (late offer)', () => {
  it('offers to the callee, offers to the caller in the 200, takes the answer from the ACK: RTP both ways, transcoded', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({
      // The callee picks PCMA; the caller answers PCMU: the server transcodes.
      answer: () => sdp(phoneB.port, { codecs: ['PCMA'] }),
      ackBody: sdp(phoneA.port, { codecs: ['PCMU'] }),
    });
    // Our offer to the callee: our address, leg B's port, our codecs and telephone-event.
    expect(call.sdpToB).toMatch(/^c=IN IP4 127\.0\.0\.1/m);
    expect(audioFormats(call.sdpToB)).toEqual([0, 8, 101]);
    expect(call.sdpToB).toMatch(/a=rtpmap:101 telephone-event\/8000/);
    expect(call.sdpToB).toMatch(/a=sendrecv/);
    // Our offer to the caller in the 200: the callee's codec first.
    expect(call.ok.header('Content-Type')).toBe('application/sdp');
    expect(audioFormats(call.sdpToA)).toEqual([8, 0, 101]);
    const portA = audioPort(call.sdpToA);
    const portB = audioPort(call.sdpToB);
    expect(portA).not.toBe(portB);

    await Promise.all([
      phoneA.stream(portA, { pt: 0, tone: new Tone('PCMU', 440), packets: 50 }),
      phoneB.stream(portB, { pt: 8, tone: new Tone('PCMA', 1000), packets: 50 }),
    ]);
    await waitFor(() => phoneB.rtp.length >= 30 && phoneA.rtp.length >= 30, 'RTP both ways');
    expect(phoneB.rtp.every((p) => p.pt === 8)).toBe(true);
    expect(phoneA.rtp.every((p) => p.pt === 0)).toBe(true);

    const byeB = rig.calleeGets(call, 'BYE');
    expect((await call.a.transact('BYE')).status).toBe(200);
    rig.callee.send(responseTo(await byeB, 200), rig.server.sipPort);
    await rig.noLiveCalls();
  }, 30000);

  it('ends the call when the ACK carries no answer: BYE to both sides', async () => {
    const [phoneB] = [await rig.phone()];
    const startsBefore = callStarts(rig.server).length;
    const call = await rig.placeCall({ answer: () => sdp(phoneB.port) });
    await endedByServer(call, startsBefore);
  }, 30000);

  it('ends the call when the answer in the ACK is unusable: BYE to both sides', async () => {
    const [phoneB] = [await rig.phone()];
    const startsBefore = callStarts(rig.server).length;
    const call = await rig.placeCall({
      answer: () => sdp(phoneB.port),
      ackBody: 'v=0\r\nthis is not SDP\r\n',
    });
    await endedByServer(call, startsBefore);
  }, 30000);

  it('works with SIPp on both sides (INVITE without SDP, answer in the ACK, RTP both ways)', async () => {
    const tone = path.join(dir, 'tone.alaw');
    execFileSync(
      'sox',
      ['-n', '-r', '8000', '-c', '1', '-e', 'a-law', '-t', 'raw', tone].concat([
        'synth',
        '6',
        'sine',
        '1000',
      ]),
    );
    const prepare = (name: string, drop: string): string => {
      const text = readFileSync(sippScenario(name), 'utf8')
        .replaceAll('TONE_FILE', tone)
        .replace(new RegExp(`<!-- ${drop} -->[\\s\\S]*?<!-- /${drop} -->`), '');
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    // A server of its own: SIPp takes over the raw callee's registered port and the
    // trunk's port (one contact for 1002, so no second fork).
    const sippRig = await startRig({ calls: { codecs: ['PCMU', 'PCMA'] } });
    try {
      const mediaBase = await allocatePortBlock(40);
      await Promise.all([sippRig.callee.close(), sippRig.trunk.close()]);
      const callee = runSipp({
        scenario: prepare('call_uas.xml', 'BYE-CALLEE'),
        localPort: sippRig.callee.localPort,
        calls: 1,
        timeoutSec: 20,
        traceMessages: true,
        extraArgs: ['-mi', '127.0.0.1', '-mp', String(mediaBase)],
      });
      await waitForUdpBound(sippRig.callee.localPort); // SIPp listens: now the server can reach it
      const caller = await runSipp({
        scenario: prepare('uac_late_offer.xml', 'NOTHING'),
        remote: `127.0.0.1:${sippRig.server.sipPort}`,
        localPort: sippRig.trunk.localPort,
        calls: 1,
        timeoutSec: 20,
        traceMessages: true,
        extraArgs: ['-s', DID, '-mi', '127.0.0.1', '-mp', String(mediaBase + 20)],
      });
      const answered = await callee;
      if (caller.exitCode !== 0 || answered.exitCode !== 0) {
        const server = sippRig.server.output().slice(-5000);
        throw new Error(
          `caller:\n${describeSipp(caller)}\n\ncallee:\n${describeSipp(answered)}\n\nserver:\n${server}`,
        );
      }
      const invite = answered.messages.split('-----').find((m) => /INVITE sip:/.test(m)) ?? '';
      expect(invite).toMatch(/m=audio \d+ RTP\/AVP 0 8 101/);
      const ok = caller.messages.split('-----').find((m) => m.includes('SIP/2.0 200')) ?? '';
      expect(ok).toMatch(/m=audio \d+ RTP\/AVP 8 0 101/);
      await sippRig.noLiveCalls();
      // RTP was relayed both ways (SIPp does not say what it received; the server's
      // media counters, reported every few seconds, do).
      const until = Date.now() + 15000;
      let out = 0;
      while (Date.now() < until && out < 200) {
        const samples = await sippRig.server.metrics();
        out = samples
          .filter((m) => m.name === 'callwatch_rtp_packets_total' && m.labels.direction === 'out')
          .reduce((a, m) => a + m.value, 0);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(out).toBeGreaterThanOrEqual(200);
    } finally {
      await sippRig.close();
    }
  }, 60000);
});
