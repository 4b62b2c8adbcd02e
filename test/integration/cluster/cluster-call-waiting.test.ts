/**
 * Supervisor call waiting across instances (docs/architecture.md §4.6, "Several
 * instances"): a Redis, two callwatch instances and Kamailio in front, all real; phones
 * (baresip) know only Kamailio.
 *
 * The customer (1004, 440 Hz) calls the agent (1002, 1000 Hz): both are pinned to
 * instance a, so a anchors the call. The supervisor's phone (1005, 1800 Hz, answered by
 * hand) is pinned to b; it listens in with *901002 (b redirects it to a, so the session
 * is a's). Then 1003 (1200 Hz, pinned to b) calls the supervisor: that call is anchored
 * on b. Answering it ends the session on a with reason `supervisor-answered-call`, in
 * a's audit log and on both event streams, as on one instance; the new call has audio
 * both ways and the monitored call goes on, checked by tone.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { startBaresip, type BaresipPhone } from '../../helpers/baresip.js';
import { EventStreamClient } from '../../helpers/eventStream.js';
import { readWav } from '../../helpers/goertzel.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  expectTones,
  heardAudio,
  SETTLE_MS,
  sleep,
  SUPERVISOR_HZ,
  toneWindow,
  waitFor,
} from '../../helpers/phoneScene.js';
import { TEST_ADMIN_TOKEN, type ExtensionSpec, type ServerHandle } from '../../helpers/server.js';
import {
  instanceSpec,
  KamailioProc,
  probedIn,
  RedisProc,
  sharedCalls,
  startInstance,
  type InstanceSpec,
} from './clusterRig.js';

const OTHER_HZ = 1200;
const EXTENSIONS: ExtensionSpec[] = ['1002', '1003', '1004', '1005'].map((n) => ({
  number: n,
  password: `pw${n}`,
  role: n === '1005' ? 'supervisor' : 'agent',
}));
const OVERRIDES = {
  monitoring: {
    groups: [{ name: 'support', monitors: ['1005'], members: ['1002'], modes: ['all'] }],
  },
};

let redis: RedisProc | undefined;
let kamailio: KamailioProc | undefined;
const specs: InstanceSpec[] = [];
const instances = new Map<string, ServerHandle>();
let phones: BaresipPhone[] = [];
let streams: EventStreamClient[] = [];

beforeAll(async () => {
  redis = await RedisProc.start();
  specs.push(await instanceSpec('a'), await instanceSpec('b'));
  for (const spec of specs) {
    instances.set(spec.id, await startInstance(spec, redis.url, EXTENSIONS, OVERRIDES));
  }
  kamailio = await KamailioProc.start(specs.map((s) => s.sipPort));
  for (const server of instances.values()) expect(await probedIn(server)).toBe(true);
}, 120000);

afterEach(async () => {
  await Promise.all(phones.map((p) => p.kill()));
  phones = [];
  await Promise.all(streams.map((c) => c.close()));
  streams = [];
});

afterAll(async () => {
  await kamailio?.stop();
  for (const server of instances.values()) await server.stop({ expectCode: null });
  await redis?.close();
}, 60000);

async function phone(
  user: string,
  toneHz: number,
  answerMode: 'auto' | 'manual' = 'auto',
): Promise<BaresipPhone> {
  const p = await startBaresip({
    user,
    password: `pw${user}`,
    serverPort: kamailio!.port,
    toneHz,
    answerMode,
  });
  phones.push(p);
  await p.waitForRegistration(10000);
  return p;
}

async function eventStream(server: ServerHandle): Promise<EventStreamClient> {
  const client = await EventStreamClient.connect(server.httpPort, {
    token: TEST_ADMIN_TOKEN.token,
  });
  streams.push(client);
  return client;
}

/** Which instance Kamailio sent an extension's REGISTER to. */
function pinnedInstance(user: string): Promise<string | undefined> {
  return kamailio!.pinnedInstance(user, specs);
}

/** Every instance knows each phone's current contact (bindings are shared). */
async function knownEverywhere(list: readonly BaresipPhone[]): Promise<void> {
  for (const server of instances.values()) {
    const known = async () => {
      const regs = await server.registrations();
      return list.every((p) =>
        regs.some(
          (r) => r.extension === p.user && r.contacts.some((c) => c.uri.includes(`:${p.sipPort}`)),
        ),
      );
    };
    expect(await waitFor(known, 5000)).toBe(true);
  }
}

/** The answered call `caller` placed, as the shared index lists it (polled). */
async function indexedCall(via: ServerHandle, caller: string, instance: string): Promise<string> {
  let id: string | undefined;
  expect(
    await waitFor(async () => {
      const call = (await sharedCalls(via)).find((c) => c.caller === caller);
      id = call?.state === 'answered' && call.instance === instance ? call.id : undefined;
      return id !== undefined;
    }, 5000),
  ).toBe(true);
  return id!;
}

interface AuditLine {
  action: string;
  supervisor: string | null;
  agent: string | null;
  reason: string | null;
}

function auditLines(server: ServerHandle): AuditLine[] {
  const file = (server.config.audit as { file: string }).file;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditLine);
}

describe('supervisor call waiting across instances', () => {
  it("answering a call anchored on b ends the supervisor's session on a with its reason; both calls go on", async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const other = await phone('1003', OTHER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ, 'manual');
    // The hash of the From user pins them (cluster-calls.test.ts lists the pins).
    expect(await Promise.all(['1002', '1004', '1003', '1005'].map(pinnedInstance))).toEqual([
      'a',
      'a',
      'b',
      'b',
    ]);
    await knownEverywhere([agent, customer, other, supervisor]);
    const onA = await eventStream(a);
    const onB = await eventStream(b);

    expect((await customer.command('dial', `sip:1002@127.0.0.1:${kamailio!.port}`)).ok).toBe(true);
    await customer.waitForEvent('CALL_ESTABLISHED', 10000);
    await agent.waitForEvent('CALL_ESTABLISHED', 10000);
    const callAt = Date.now();
    const monitoredId = await indexedCall(b, '1004', 'a');

    // Listening on a's call, by feature code through b (redirected to a).
    expect((await supervisor.command('dial', `sip:*901002@127.0.0.1:${kamailio!.port}`)).ok).toBe(
      true,
    );
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const monitorAt = Date.now();
    const started = await onA.next(
      (e) => e.type === 'monitor.started' && e.callId === monitoredId,
      10000,
    );
    expect(started).toMatchObject({ supervisor: '1005', agent: '1002' });
    expect(started.instance).toBeUndefined(); // a's own session

    // 1003 calls the supervisor: a call anchored on b; it rings, nothing ends yet.
    expect((await other.command('dial', `sip:1005@127.0.0.1:${kamailio!.port}`)).ok).toBe(true);
    await supervisor.waitForEvent('CALL_INCOMING', 10000);
    await other.waitForEvent('CALL_RINGING', 10000);
    // baresip names each call's recording by the second it starts: the new call must
    // start in another second than the monitoring call, or its file replaces the first.
    await sleep(Math.max(500, 1200 - (Date.now() - monitorAt)));
    expect(onA.received.some((e) => e.type === 'monitor.ended')).toBe(false);

    expect((await supervisor.command('accept')).ok).toBe(true);
    await other.waitForEvent('CALL_ESTABLISHED', 10000);
    const answeredAt = Date.now();
    const otherId = await indexedCall(a, '1003', 'b');
    expect(otherId).not.toBe(monitoredId);

    // a ends its session as for a local answer: the event, on a and (shared) on b …
    const ended = await onA.next((e) => e.type === 'monitor.ended', 10000);
    expect(ended).toMatchObject({
      callId: monitoredId,
      supervisor: '1005',
      agent: '1002',
      reason: 'supervisor-answered-call',
    });
    expect(ended.instance).toBeUndefined();
    const endedOnB = await onB.next((e) => e.type === 'monitor.ended', 5000);
    expect(endedOnB).toMatchObject({
      callId: monitoredId,
      reason: 'supervisor-answered-call',
      instance: 'a',
    });
    // … the audit entry on a …
    expect(
      await waitFor(
        async () =>
          auditLines(a).some(
            (l) =>
              l.action === 'stop' &&
              l.supervisor === '1005' &&
              l.agent === '1002' &&
              l.reason === 'supervisor-answered-call',
          ),
        5000,
      ),
    ).toBe(true);
    // … and the monitor dialog's BYE to the phone, whose other call goes on.
    await supervisor.waitForEvent('CALL_CLOSED', 10000);

    await sleep(3000);
    const endAt = Date.now();
    // The new call (anchored on b): audio both ways.
    expectTones(
      'caller 1003 hears the supervisor',
      toneWindow(heardAudio(other), answeredAt, answeredAt + SETTLE_MS, endAt),
      [SUPERVISOR_HZ],
      [CUSTOMER_HZ, AGENT_HZ],
    );
    const supervisorCalls = supervisor.recordings().dec.sort();
    expect(supervisorCalls).toHaveLength(2);
    expectTones(
      'supervisor hears 1003',
      toneWindow(readWav(supervisorCalls[1]!), answeredAt, answeredAt + SETTLE_MS, endAt),
      [OTHER_HZ],
      [CUSTOMER_HZ, AGENT_HZ],
    );
    // The monitored call goes on (on a): customer and agent still hear each other, and
    // not the supervisor's new call.
    expectTones(
      'customer after the supervisor left',
      toneWindow(heardAudio(customer), callAt, answeredAt + SETTLE_MS, endAt),
      [AGENT_HZ],
      [SUPERVISOR_HZ, OTHER_HZ],
    );
    expectTones(
      'agent after the supervisor left',
      toneWindow(heardAudio(agent), callAt, answeredAt + SETTLE_MS, endAt),
      [CUSTOMER_HZ],
      [SUPERVISOR_HZ, OTHER_HZ],
    );
    expect(onA.received.some((e) => e.type === 'call.ended')).toBe(false);
    expect(auditLines(b).filter((l) => l.action === 'stop')).toEqual([]);

    await other.command('hangup');
    await other.waitForEvent('CALL_CLOSED', 10000);
    await customer.command('hangup');
    await agent.waitForEvent('CALL_CLOSED', 10000);
  }, 120000);
});
