/**
 * The media engine's life cycle on real sockets and threads: every socket, timer and
 * worker closed (counted in /proc), ports from the range, worker affinity, idempotent
 * close, stats, and the failure paths of the worker boundary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidStateError, MediaError } from '../../../media/engine/errors.js';
import type { MediaEngineOptions } from '../../../media/engine/engineOptions.js';
import type { Leg, LegCloseReason } from '../../../media/engine/leg.js';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { MediaLogger } from '../../../media/engine/logger.js';
import { PROTOCOL_VERSION } from '../../../media/worker/protocol.js';
import type { LegStats, WorkerStats } from '../../../media/worker/protocol.js';
import { twoPartyCall } from './callFixture.js';
import { startEngine, WORKER_SCRIPT } from './engineFixture.js';
import { FakePhone, sleep, Tone, waitFor } from './fakePhone.js';
import { ownUdpPortsIn, ownUdpSocketCount } from './udpSockets.js';

const PCMU = [{ name: 'PCMU', payloadType: 0 }] as const;
const codecs = (): { name: 'PCMU'; payloadType: number }[] => PCMU.map((c) => ({ ...c }));

let engine: MediaEngine | undefined;
const phones: FakePhone[] = [];

async function engineWith(options: Partial<MediaEngineOptions> = {}, pairs = 8) {
  const fixture = await startEngine(options, pairs);
  engine = fixture.engine;
  return fixture;
}

afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

function pairsOf(legs: readonly Leg[]): number[] {
  return legs.flatMap((l) => [l.localPort, l.rtcpPort]).sort((a, b) => a - b);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('MediaEngine life cycle', () => {
  it('closes every socket it opened: counted before and after', async () => {
    const before = ownUdpSocketCount();
    const { engine, portMin, portMax } = await engineWith();
    const legs = await Promise.all([1, 2, 3].map(() => engine.createLeg({ codecs: codecs() })));
    expect(ownUdpPortsIn(portMin, portMax)).toEqual(pairsOf(legs));
    expect(ownUdpSocketCount()).toBe(before + 6);

    await legs[1]!.close();
    expect(ownUdpPortsIn(portMin, portMax)).toEqual(pairsOf([legs[0]!, legs[2]!]));
    expect(ownUdpSocketCount()).toBe(before + 4);

    await engine.close();
    expect(ownUdpPortsIn(portMin, portMax)).toEqual([]);
    expect(ownUdpSocketCount()).toBe(before);
  });

  it('hands each leg its own even port pair from the range, and frees it on close', async () => {
    const { engine, portMin, portMax } = await engineWith({}, 3);
    const legs = await Promise.all([1, 2, 3].map(() => engine.createLeg({ codecs: codecs() })));
    const ports = legs.map((l) => l.localPort);
    expect(new Set(ports).size).toBe(3);
    for (const leg of legs) {
      expect(leg.localPort % 2).toBe(0);
      expect(leg.localPort).toBeGreaterThanOrEqual(portMin);
      expect(leg.rtcpPort).toBeLessThanOrEqual(portMax);
      expect(leg.localAddress).toBe('127.0.0.1');
    }
    expect(await codeOf(engine.createLeg({ codecs: codecs() }))).toBe('ERR_NO_PORTS');
    await legs[0]!.close();
    const again = await engine.createLeg({ codecs: codecs() });
    expect(again.localPort).toBe(legs[0]!.localPort);
    expect(again.id).not.toBe(legs[0]!.id);
  });

  it('skips a port pair someone else holds (EADDRINUSE)', async () => {
    const { engine, portMin } = await engineWith({}, 3);
    // Hold the first pair's RTCP port: the engine must release its RTP port and move on.
    const blocker = createSocket('udp4');
    await new Promise<void>((resolve) => blocker.bind(portMin + 1, '127.0.0.1', resolve));
    try {
      const leg = await engine.createLeg({ codecs: codecs() });
      expect(leg.localPort).toBe(portMin + 2);
      expect(ownUdpPortsIn(portMin, portMin + 5)).toEqual([portMin + 1, portMin + 2, portMin + 3]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('places a call’s legs on one worker, and refuses routes across workers', async () => {
    const { engine } = await engineWith({ workers: 2 });
    expect(engine.workerCount).toBe(2);
    const a1 = await engine.createLeg({ codecs: codecs(), group: 'call-a' });
    const b1 = await engine.createLeg({ codecs: codecs(), group: 'call-b' });
    const a2 = await engine.createLeg({ codecs: codecs(), group: 'call-a' });
    const b2 = await engine.createLeg({ codecs: codecs(), group: 'call-b' });
    expect(a1.workerIndex).toBe(a2.workerIndex);
    expect(b1.workerIndex).toBe(b2.workerIndex);
    expect(a1.workerIndex).not.toBe(b1.workerIndex); // balanced: call-b went to the idle worker
    await engine.connect(a1, a2);
    expect(a1.sources).toEqual([a2]);
    expect(await codeOf(a1.setSources([b1]))).toBe('ERR_CROSS_WORKER');
    expect(await codeOf(a1.setSources([a2, a1]))).toBe('ERR_INVALID_ARGUMENT');
    const a3 = await engine.createLeg({ codecs: codecs(), group: 'call-a' });
    expect(await codeOf(a3.setSources([a1, a2]))).toBe('ERR_MIX_UNSUPPORTED');
    // A closed source leaves its listeners' source lists.
    await a2.close();
    expect(a1.sources).toEqual([]);
  });

  it('spreads legs created at the same moment over the workers', async () => {
    const { engine } = await engineWith({ workers: 2 });
    const legs = await Promise.all(
      ['c1', 'c2', 'c3', 'c4'].map((group) => engine.createLeg({ codecs: codecs(), group })),
    );
    const perWorker = [0, 0];
    for (const leg of legs) perWorker[leg.workerIndex]! += 1;
    expect(perWorker).toEqual([2, 2]);
  });

  it('a room closing while the engine closes is no error (its worker takes it along)', async () => {
    const errors: string[] = [];
    const logger: MediaLogger = {
      child: () => logger,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (_obj, msg) => void errors.push(msg ?? ''),
    };
    const { engine } = await engineWith({ logger });
    const rooms = await Promise.all([engine.createRoom(), engine.createRoom()]);
    const closes = rooms.map((room) => room.close());
    await engine.close();
    await Promise.all(closes);
    expect(errors).toEqual([]);
  });

  it('close is idempotent; afterwards everything rejects with InvalidStateError', async () => {
    const { engine } = await engineWith();
    const leg = await engine.createLeg({ codecs: codecs() });
    const reasons: LegCloseReason[] = [];
    leg.on('close', (reason) => reasons.push(reason));
    const pending = leg.getStats();
    const closing = engine.close();
    await expect(pending).rejects.toBeInstanceOf(InvalidStateError);
    await Promise.all([closing, engine.close(), leg.close()]);
    expect(engine.closed).toBe(true);
    expect(leg.closed).toBe(true);
    expect(reasons).toEqual(['engine-closed']);
    await expect(engine.createLeg({ codecs: codecs() })).rejects.toBeInstanceOf(InvalidStateError);
    await expect(engine.getStats()).rejects.toBeInstanceOf(InvalidStateError);
    await expect(leg.setDirection('inactive')).rejects.toBeInstanceOf(InvalidStateError);
    await expect(leg.setRemote(null)).rejects.toBeInstanceOf(InvalidStateError);
    await expect(leg.getStats()).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('a closed leg rejects its methods; closing it twice is harmless', async () => {
    const { engine } = await engineWith();
    const leg = await engine.createLeg({ codecs: codecs() });
    const reasons: LegCloseReason[] = [];
    leg.on('close', (reason) => reasons.push(reason));
    await Promise.all([leg.close(), leg.close()]);
    await leg.close();
    expect(reasons).toEqual(['closed']);
    expect(engine.legCount).toBe(0);
    await expect(leg.setSources([])).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('reports per-worker counters and per-leg stats periodically', async () => {
    const { engine } = await engineWith({ statsIntervalMs: 200 });
    const call = await twoPartyCall(engine, { law: 'PCMU', pt: 0 }, { law: 'PCMU', pt: 0 });
    phones.push(call.phoneA, call.phoneB);
    const workerStats: WorkerStats[] = [];
    const legStats: LegStats[] = [];
    engine.on('stats', (s) => workerStats.push(s));
    call.legA.on('stats', (s) => legStats.push(s));
    await Promise.all([
      call.phoneA.stream(call.legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 25 }),
      call.phoneB.stream(call.legB.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 25 }),
    ]);
    // The phones have sent; the worker reads the last datagrams a moment later (a batch of
    // the native io is handed over when the worker's loop takes it), so wait for the report
    // that has them all, then check it counted exactly those.
    await waitFor(
      () => (workerStats.at(-1)?.counters.packetsIn ?? 0) >= 50,
      'a stats event counting the 50 datagrams sent',
    );
    const last = workerStats[workerStats.length - 1]!;
    expect(last).toMatchObject({ worker: 0, legs: 2 });
    expect(last.counters).toMatchObject({
      rtpIn: 50,
      packetsIn: 50,
      packetsOut: 50,
      bytesOut: 50 * 172,
    });
    expect(last.cpuMs).toBeGreaterThan(0);
    expect(last.eventLoopUtilization).toBeGreaterThanOrEqual(0);
    expect(last.eventLoopUtilization).toBeLessThanOrEqual(1);
    expect(legStats.length).toBeGreaterThan(0);
    expect(legStats.every((s) => s.legId === call.legA.id)).toBe(true);
    // On request too, with the counters of closed legs kept in the worker totals.
    await call.legB.close();
    const [report] = await engine.getStats();
    expect(report!.worker.legs).toBe(1);
    expect(report!.worker.counters.rtpIn).toBe(50);
    expect(report!.legs.map((l) => l.legId)).toEqual([call.legA.id]);
    // The totals alone, without the legs' reports.
    const [totals] = await engine.getStats({ legs: false });
    expect(totals!.worker).toMatchObject({ legs: 1, counters: { rtpIn: 50 } });
    expect(totals!.legs).toEqual([]);
  });

  it('refuses bad options and arguments with ERR_INVALID_ARGUMENT', async () => {
    const base = {
      address: '127.0.0.1',
      portRange: { min: 20000, max: 20010 },
      rtpTimeoutMs: 0,
      latchWindowMs: 0,
      workerScript: WORKER_SCRIPT,
    };
    const { MediaEngine } = await import('../../../media/engine/mediaEngine.js');
    for (const bad of [
      { ...base, address: 'localhost' },
      { ...base, portRange: { min: 20001, max: 20002 } },
      { ...base, portRange: { min: 20000, max: 19000 } },
      { ...base, rtpTimeoutMs: -1 },
      { ...base, workers: 0 },
      { ...base, workerScript: 42 as unknown as string },
    ]) {
      expect(await codeOf(MediaEngine.create(bad))).toBe('ERR_INVALID_ARGUMENT');
    }
    const { engine } = await engineWith();
    expect(await codeOf(engine.createLeg({ codecs: [] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(
      await codeOf(engine.createLeg({ codecs: codecs(), remote: { address: 'x', port: 1 } })),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(
      await codeOf(engine.createLeg({ codecs: codecs(), remote: { address: '::1', port: 1 } })),
    ).toBe('ERR_INVALID_ARGUMENT');
    const leg = await engine.createLeg({ codecs: codecs() });
    expect(await codeOf(leg.setDirection('hold' as 'inactive'))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(leg.setRemote({ address: '::1', port: 4000 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(leg.setSources([leg]))).toBe('ERR_INVALID_ARGUMENT');
    await leg.setCodecs([{ name: 'PCMA', payloadType: 8 }], { payloadType: 101 });
  });
});

describe('worker failures', () => {
  let dir: string;
  const script = (name: string, onMessage: string, protocol = PROTOCOL_VERSION): string => {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(
      file,
      `import { parentPort, workerData } from 'node:worker_threads';
const reply = (m, result) => parentPort.postMessage({ type: 'reply', id: m.id, ok: true, result });
parentPort.postMessage({ type: 'ready', protocol: ${protocol}, worker: workerData.index });
parentPort.on('message', (m) => { ${onMessage} });
`,
    );
    return file;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'callwatch-media-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a worker build that speaks another protocol version', async () => {
    const stale = script('stale', '', PROTOCOL_VERSION + 1);
    const error = await startEngine({ workerScript: stale }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe('ERR_PROTOCOL_MISMATCH');
  });

  it('closes the legs of a worker that dies, with reason worker-died', async () => {
    const crashing = script(
      'crashing',
      `if (m.type === 'createLeg') reply(m, { ssrc: 42 });
       else if (m.type === 'getStats') process.exit(3);
       else reply(m, null);`,
    );
    const { engine } = await engineWith({ workerScript: crashing });
    const died: number[] = [];
    engine.on('workerDied', ({ worker }) => died.push(worker));
    const leg = await engine.createLeg({ codecs: codecs() });
    const reasons: LegCloseReason[] = [];
    leg.on('close', (reason) => reasons.push(reason));
    expect(await codeOf(leg.getStats())).toBe('ERR_WORKER');
    await waitFor(() => reasons.length === 1, 'the leg to close');
    expect(reasons).toEqual(['worker-died']);
    expect(died).toEqual([0]);
    expect(engine.legCount).toBe(0);
    expect(await codeOf(engine.createLeg({ codecs: codecs() }))).toBe('ERR_WORKER');
  });

  it('fails a command the worker never answers with ERR_TIMEOUT, and still closes', async () => {
    const silent = script('silent', '');
    const { engine } = await engineWith({ workerScript: silent, requestTimeoutMs: 100 });
    expect(await codeOf(engine.createLeg({ codecs: codecs() }))).toBe('ERR_TIMEOUT');
    await engine.close();
    await sleep(10);
  });
});
