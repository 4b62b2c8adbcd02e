/**
 * Supervisor call waiting (docs/architecture.md §4.6) with real phones (baresip): a
 * customer (1002, 440 Hz) talks to an agent (1001, 1000 Hz); the supervisor (1005, 1800
 * Hz, a phone that does not auto-answer) listens in with *90. Then 1003 (1200 Hz) calls
 * the supervisor: the supervisor's phone rings (it is not refused busy); when it is
 * answered the monitoring session ends with reason `supervisor-answered-call` in the audit
 * log and on the event stream, and the new call has audio both ways while the monitored
 * call goes on.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import { EventStreamClient } from '../helpers/eventStream.js';
import { readWav } from '../helpers/goertzel.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  dialAndAnswer,
  expectTones,
  heardAudio,
  PhonePool,
  SETTLE_MS,
  sleep,
  startPhoneServer,
  SUPERVISOR_HZ,
  toneWindow,
  waitFor,
} from '../helpers/phoneScene.js';
import { TEST_ADMIN_TOKEN, type ServerHandle } from '../helpers/server.js';

const OTHER_HZ = 1200;
const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1003', password: 'pw1003', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];

let server: ServerHandle;
const phones = new PhonePool(() => server);
const extra: BaresipPhone[] = [];
let events: EventStreamClient | undefined;

beforeAll(async () => {
  server = await startPhoneServer({}, EXTENSIONS);
}, 30000);

afterEach(async () => {
  await events?.close();
  events = undefined;
  await phones.killAll();
  await Promise.all(extra.splice(0).map((p) => p.kill()));
});

afterAll(async () => {
  await server?.stop();
});

interface AuditLine {
  action: string;
  supervisor: string | null;
  reason: string | null;
}

function auditLines(): AuditLine[] {
  const file = (server.config.audit as { file: string }).file;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditLine);
}

describe('a supervisor who is monitoring gets a call', () => {
  it('it rings; answering it ends the monitoring with its reason; both calls go on', async () => {
    events = await EventStreamClient.connect(server.httpPort, { token: TEST_ADMIN_TOKEN.token });
    const agent = await phones.phone('1001', AGENT_HZ);
    const customer = await phones.phone('1002', CUSTOMER_HZ);
    const other = await phones.phone('1003', OTHER_HZ);
    const supervisor = await startBaresip({
      user: '1005',
      password: 'pw1005',
      serverPort: server.sipPort,
      toneHz: SUPERVISOR_HZ,
      audioCodecs: 'pcmu',
      answerMode: 'manual',
    });
    extra.push(supervisor);
    await supervisor.waitForRegistration(10000);

    await dialAndAnswer(server, customer, agent, '1001');
    const callAt = Date.now();
    expect((await supervisor.command('dial', `sip:*901001@127.0.0.1:${server.sipPort}`)).ok).toBe(
      true,
    );
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const monitorAt = Date.now();
    await events.next((e) => e.type === 'monitor.started');

    // 1003 calls the supervisor: it rings there (call waiting), nothing is refused.
    expect((await other.command('dial', `sip:1005@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await supervisor.waitForEvent('CALL_INCOMING', 10000);
    await other.waitForEvent('CALL_RINGING', 10000);
    // baresip names each call's recording by the second it starts: the new call must
    // start in another second than the monitoring call, or its file replaces the first.
    await sleep(Math.max(500, 1200 - (Date.now() - monitorAt)));
    // Still monitoring while it rings.
    expect(events.received.some((e) => e.type === 'monitor.ended')).toBe(false);

    expect((await supervisor.command('accept')).ok).toBe(true);
    await other.waitForEvent('CALL_ESTABLISHED', 10000);
    const answeredAt = Date.now();
    const ended = await events.next((e) => e.type === 'monitor.ended');
    expect(ended).toMatchObject({
      supervisor: '1005',
      agent: '1001',
      reason: 'supervisor-answered-call',
    });
    expect(
      await waitFor(
        async () =>
          auditLines().some(
            (l) =>
              l.action === 'stop' &&
              l.supervisor === '1005' &&
              l.reason === 'supervisor-answered-call',
          ),
        5000,
      ),
    ).toBe(true);

    await sleep(3000);
    const endAt = Date.now();
    // The new call: audio both ways.
    expectTones(
      'caller 1003 hears the supervisor',
      toneWindow(heardAudio(other), answeredAt, answeredAt + SETTLE_MS, endAt),
      [SUPERVISOR_HZ],
      [CUSTOMER_HZ, AGENT_HZ],
    );
    // The supervisor's phone recorded each call apart: the newest is the new call.
    const supervisorCalls = supervisor.recordings().dec.sort();
    expect(supervisorCalls).toHaveLength(2);
    const supHeard = readWav(supervisorCalls[1]!);
    expectTones(
      'supervisor hears 1003',
      toneWindow(supHeard, answeredAt, answeredAt + SETTLE_MS, endAt),
      [OTHER_HZ],
      [CUSTOMER_HZ, AGENT_HZ],
    );
    // The monitored call goes on: customer and agent still hear each other.
    expectTones(
      'customer after the supervisor left',
      toneWindow(heardAudio(customer), callAt, answeredAt + SETTLE_MS, endAt),
      [AGENT_HZ],
      [SUPERVISOR_HZ, OTHER_HZ],
    );
    expect(events.received.some((e) => e.type === 'call.ended')).toBe(false);
    await other.command('hangup');
    await other.waitForEvent('CALL_CLOSED', 10000);
    await customer.command('hangup');
    await agent.waitForEvent('CALL_CLOSED', 10000);
  }, 60000);
});
