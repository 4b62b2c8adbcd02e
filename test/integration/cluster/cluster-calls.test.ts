/**
 * Several instances behind Kamailio (docs/architecture.md "Several instances"): a Redis,
 * two callwatch instances sharing it and Kamailio with deploy/kamailio/kamailio.cfg in
 * front, all real. Phones (baresip) know only Kamailio's address.
 *
 * - Registered through Kamailio, every phone is known to both instances, and calls
 *   between phones pinned to different instances land on both instances, with audio
 *   both ways (tones checked on what each phone heard).
 * - kill -9 one instance: the other's call keeps its audio, the dead one's call leaves
 *   the shared list, a new call from a phone pinned to the dead instance is set up by
 *   the survivor; restarted, the instance gets that phone's new calls again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startBaresip, tracedRequest, type BaresipPhone } from '../../helpers/baresip.js';
import { readWav } from '../../helpers/goertzel.js';
import { expectTones, sleep, toneWindow, waitFor } from '../../helpers/phoneScene.js';
import { makeExtensions, type ServerHandle } from '../../helpers/server.js';
import {
  instanceSpec,
  probedIn,
  KamailioProc,
  RedisProc,
  sharedCalls,
  startInstance,
  type InstanceSpec,
} from './clusterRig.js';

const EXTENSIONS = makeExtensions(1001, 8);
const CALLER_HZ = 1000;
const CALLEE_HZ = 440;

let redis: RedisProc | undefined;
let kamailio: KamailioProc | undefined;
const specs: InstanceSpec[] = [];
const instances = new Map<string, ServerHandle>();
let phones: BaresipPhone[] = [];

beforeAll(async () => {
  redis = await RedisProc.start();
  specs.push(await instanceSpec('a'), await instanceSpec('b'));
  for (const spec of specs)
    instances.set(spec.id, await startInstance(spec, redis.url, EXTENSIONS));
  kamailio = await KamailioProc.start(specs.map((s) => s.sipPort));
}, 120000);

afterEach(async () => {
  await Promise.all(phones.map((p) => p.kill()));
  phones = [];
});

afterAll(async () => {
  await kamailio?.stop();
  for (const server of instances.values()) await server.stop({ expectCode: null });
  await redis?.close();
}, 60000);

async function phone(user: string, toneHz: number): Promise<BaresipPhone> {
  const p = await startBaresip({
    user,
    password: `pw${user}`,
    serverPort: kamailio!.port,
    toneHz,
  });
  phones.push(p);
  await p.waitForRegistration(10000);
  return p;
}

/** Which instance Kamailio sent an extension's REGISTER to. */
async function pinnedInstance(user: string): Promise<string> {
  const id = await kamailio!.pinnedInstance(user, specs);
  if (id === undefined) throw new Error(`no REGISTER of ${user} in:\n${kamailio!.log()}`);
  return id;
}

async function dial(caller: BaresipPhone, callee: BaresipPhone): Promise<number> {
  expect((await caller.command('dial', `sip:${callee.user}@127.0.0.1:${kamailio!.port}`)).ok).toBe(
    true,
  );
  await caller.waitForEvent('CALL_ESTABLISHED', 10000);
  await callee.waitForEvent('CALL_ESTABLISHED', 10000);
  return Date.now();
}

/** The live call a caller placed, from the shared list of `via`. */
async function callOf(
  via: ServerHandle,
  caller: string,
): Promise<{ instance: string } | undefined> {
  return (await sharedCalls(via)).find((c) => c.caller === caller && c.state === 'answered');
}

async function ownerOf(via: ServerHandle, caller: string): Promise<string | undefined> {
  let owner: string | undefined;
  await waitFor(async () => {
    owner = (await callOf(via, caller))?.instance;
    return owner !== undefined;
  }, 5000);
  return owner;
}

/** Extensions pinned to each instance by Kamailio's hash of the From user (stable). */
const PINNED: Record<string, 'a' | 'b'> = {
  '1001': 'b',
  '1002': 'a',
  '1003': 'b',
  '1004': 'a',
  '1005': 'b',
  '1006': 'a',
  '1007': 'b',
  '1008': 'b',
};

async function hangUp(caller: BaresipPhone, callee: BaresipPhone): Promise<void> {
  await caller.command('hangup');
  await caller.waitForEvent('CALL_CLOSED', 10000);
  await callee.waitForEvent('CALL_CLOSED', 10000);
}

function heard(p: BaresipPhone) {
  const { dec } = p.recordings();
  expect(dec).toHaveLength(1);
  return readWav(dec[0]!);
}

/**
 * Every message the phone sent went to Kamailio, and so did its in-dialog requests: the
 * instance kept Kamailio's Record-Route in its responses (RFC 3261 §12.1.1), so the
 * caller's ACK and BYE carry a Route to Kamailio, and the callee's BYE came from it.
 */
async function expectOnlyThroughKamailio(
  caller: BaresipPhone,
  callee: BaresipPhone,
): Promise<void> {
  const kam = `127.0.0.1:${kamailio!.port}`;
  // The hang-up's messages, awaited in each trace (read apart from the phones' events).
  const receivedBye = tracedRequest('received', 'BYE');
  await caller.waitForTrace(tracedRequest('sent', 'BYE'));
  await callee.waitForTrace(receivedBye);
  for (const p of [caller, callee]) {
    const sentElsewhere = p
      .trace()
      .filter((t) => t.direction === 'sent' && t.dst !== kam)
      .map((t) => `${t.message.method ?? t.message.status} to ${t.dst}`);
    expect({ phone: p.user, sentElsewhere }).toEqual({ phone: p.user, sentElsewhere: [] });
  }
  // The last ACK is the 2xx's (an ACK to the 407 before it is hop-by-hop, no Route).
  for (const method of ['ACK', 'BYE']) {
    const r = caller.sentRequests(method).at(-1);
    expect({ method, route: r?.header('Route') ?? r?.raw }).toEqual({
      method,
      route: expect.stringContaining(`:${kamailio!.port};lr`),
    });
  }
  const bye = callee.trace().find(receivedBye);
  expect(bye?.src).toBe(kam);
}

describe('two instances behind Kamailio, state shared in Redis', () => {
  it('phones registered through Kamailio call each other; calls land on both instances', async () => {
    // One at a time: each phone takes a block of free ports.
    const byUser = new Map<string, BaresipPhone>();
    for (const e of EXTENSIONS) {
      const caller = e.number === '1001' || e.number === '1002';
      byUser.set(e.number, await phone(e.number, caller ? CALLER_HZ : CALLEE_HZ));
    }
    // Kamailio spread the REGISTERs by From user over both instances, as the hash says…
    for (const e of EXTENSIONS)
      expect([e.number, await pinnedInstance(e.number)]).toEqual([e.number, PINNED[e.number]]);
    // …and every instance knows every phone, whichever instance took its REGISTER.
    for (const server of instances.values()) {
      expect(
        await waitFor(
          async () => (await server.registrations()).length === EXTENSIONS.length,
          5000,
        ),
      ).toBe(true);
    }
    // 1002 is pinned to a, 1001 to b; their callees to the other instance, so each call
    // reaches a callee through a binding the other instance accepted.
    const [onA, calleeA] = [byUser.get('1002')!, byUser.get('1003')!];
    const [onB, calleeB] = [byUser.get('1001')!, byUser.get('1004')!];
    const t0 = await dial(onA, calleeA);
    await dial(onB, calleeB);
    // Either instance lists both calls, each owned by the instance its caller is pinned to.
    for (const server of instances.values()) {
      expect(await ownerOf(server, '1002')).toBe('a');
      expect(await ownerOf(server, '1001')).toBe('b');
    }
    await sleep(3000);
    await hangUp(onA, calleeA);
    await hangUp(onB, calleeB);
    await expectOnlyThroughKamailio(onA, calleeA);
    await expectOnlyThroughKamailio(onB, calleeB);
    for (const [p, own, other] of [
      [onA, CALLER_HZ, CALLEE_HZ],
      [calleeA, CALLEE_HZ, CALLER_HZ],
      [onB, CALLER_HZ, CALLEE_HZ],
      [calleeB, CALLEE_HZ, CALLER_HZ],
    ] as const) {
      expectTones(`${p.user} heard`, toneWindow(heard(p), t0, t0 + 500, t0 + 2500), [other], [own]);
    }
    for (const server of instances.values()) {
      expect(await waitFor(async () => (await sharedCalls(server)).length === 0, 3000)).toBe(true);
    }
  }, 90000);

  it('kill -9 one instance: the other call goes on, new calls go to the survivor, and to the restarted one', async () => {
    const callerA = await phone('1002', CALLER_HZ);
    const calleeA = await phone('1003', CALLEE_HZ);
    const callerB = await phone('1001', CALLER_HZ);
    const calleeB = await phone('1004', CALLEE_HZ);
    await dial(callerA, calleeA);
    const tB = await dial(callerB, calleeB);
    const b = instances.get('b')!;
    expect(await ownerOf(b, '1002')).toBe('a');
    expect(await ownerOf(b, '1001')).toBe('b');
    await sleep(1000);

    const a = instances.get('a')!;
    a.process.kill('SIGKILL');
    await a.stop({ expectCode: null });
    const tKill = Date.now();
    // The dead instance's call leaves the shared list within its expiry (5 s); b's stays.
    expect(await waitFor(async () => (await callOf(b, '1002')) === undefined, 8000)).toBe(true);
    expect((await callOf(b, '1001'))?.instance).toBe('b');

    // A phone pinned to the dead instance registers and calls: the survivor takes both.
    const lateCaller = await phone('1006', CALLER_HZ);
    const lateCallee = await phone('1005', CALLEE_HZ);
    await dial(lateCaller, lateCallee);
    expect(await ownerOf(b, '1006')).toBe('b');
    await hangUp(lateCaller, lateCallee);

    // b's call kept its audio through all of it.
    const tEnd = Date.now();
    await hangUp(callerB, calleeB);
    expect(tEnd - tKill).toBeGreaterThan(2500);
    expectTones(
      '1001 heard after the kill',
      toneWindow(heard(callerB), tB, tKill + 500, tEnd - 500),
      [CALLEE_HZ],
      [CALLER_HZ],
    );
    expectTones(
      '1004 heard after the kill',
      toneWindow(heard(calleeB), tB, tKill + 500, tEnd - 500),
      [CALLER_HZ],
      [CALLEE_HZ],
    );

    // Restarted on its address, a is probed back in and gets its phones' new calls again.
    const restarted = await startInstance(specs[0]!, redis!.url, EXTENSIONS);
    instances.set('a', restarted);
    // It learnt every registration from Redis at start.
    expect((await restarted.registrations()).length).toBeGreaterThanOrEqual(4);
    expect(await probedIn(restarted)).toBe(true);
    const again = await phone('1006', CALLER_HZ);
    const againCallee = await phone('1007', CALLEE_HZ);
    await dial(again, againCallee);
    expect(await ownerOf(b, '1006')).toBe('a');
    expect(await ownerOf(restarted, '1006')).toBe('a');
    await hangUp(again, againCallee);
  }, 180000);

  it('Redis stopped mid-call: the call keeps its audio, the shared list fails clearly, then recovers', async () => {
    const caller = await phone('1002', CALLER_HZ);
    const callee = await phone('1003', CALLEE_HZ);
    const t0 = await dial(caller, callee);
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    expect(await ownerOf(b, '1002')).toBe('a');

    expect(await b.metric('callwatch_cluster_redis_up')).toBe(1);
    await redis!.stop();
    const tDown = Date.now();
    // A cluster-wide feature answers with a clear error, not a hang or a stale list.
    const down = await b.httpGet('/v1/cluster/calls');
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({ error: { code: 'cluster-unavailable' } });
    expect(
      await a.waitForLog((e) => e.msg?.startsWith('redis unreachable') === true, 5000),
    ).toBeDefined();
    expect(await b.metric('callwatch_cluster_redis_up')).toBe(0);
    await sleep(2000);

    await redis!.run();
    // Both instances reconnect by themselves; the owner writes its call again.
    await a.waitForLog((e) => e.msg === 'redis reachable again', 10000);
    await b.waitForLog((e) => e.msg === 'redis reachable again', 10000);
    expect(await ownerOf(b, '1002')).toBe('a');
    expect(await b.metric('callwatch_cluster_redis_up')).toBe(1);
    // Registrations were written again too: the empty Redis knows the live bindings.
    expect(await waitFor(async () => redis!.keys('callwatch:binding:*').length >= 2, 3000)).toBe(
      true,
    );
    await sleep(1000);
    const tEnd = Date.now();
    await hangUp(caller, callee);
    expectTones(
      '1003 heard through the outage',
      toneWindow(heard(callee), t0, tDown, tEnd - 500),
      [CALLER_HZ],
      [CALLEE_HZ],
    );
    expectTones(
      '1002 heard through the outage',
      toneWindow(heard(caller), t0, tDown, tEnd - 500),
      [CALLEE_HZ],
      [CALLER_HZ],
    );
    expect(await waitFor(async () => (await sharedCalls(b)).length === 0, 3000)).toBe(true);
  }, 90000);
});
