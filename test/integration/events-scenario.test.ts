/**
 * The event stream and the audit log over one full monitoring scenario with real phones
 * (docs/architecture.md §11.3, §11.4): events arrive on a WebSocket client in order for a full
 * scenario, and the audit file holds the same story afterwards.
 *
 * Four baresip phones register: an agent (1001, auto-answer, 1000 Hz), a customer (1002,
 * 440 Hz), a supervisor (1005, 1800 Hz) who monitors 1001 and 1002, and an outsider
 * (1009) nobody monitors. The customer calls the agent; the agent keys `##` (raise hand);
 * the supervisor dials *901001 (listen; the hand is lowered), keys 5 (whisper); the
 * customer hangs up. One WebSocket client per scope watches: admin sees everything in
 * order, the supervisor its members' and its own events, the agent only events about
 * 1001 (monitor.* too, as notifyAgents is true). The audit file holds the same story, and
 * a client joining later with ?since= gets the replay. A second server with notifyAgents
 * false shows the agent's client never learns it is monitored.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import { EventStreamClient, type StreamEvent } from '../helpers/eventStream.js';
import { allocatePortBlock } from '../helpers/ports.js';
import {
  PEER_AUTH,
  startServer,
  TEST_ADMIN_TOKEN,
  type ExtensionSpec,
  type ServerHandle,
} from '../helpers/server.js';

const AGENT = '1001';
const CUSTOMER = '1002';
const SUPERVISOR = '1005';
const OUTSIDER = '1009';
const TONES: Record<string, number> = {
  [AGENT]: 1000,
  [CUSTOMER]: 440,
  [SUPERVISOR]: 1800,
  [OUTSIDER]: 600,
};
const EXTENSIONS: ExtensionSpec[] = [
  { number: AGENT, password: `pw${AGENT}`, role: 'agent' },
  { number: CUSTOMER, password: `pw${CUSTOMER}`, role: 'agent' },
  { number: SUPERVISOR, password: `pw${SUPERVISOR}`, role: 'supervisor' },
  { number: OUTSIDER, password: `pw${OUTSIDER}`, role: 'agent' },
];
const SUPERVISOR_TOKEN = {
  name: 'supervisor-1005',
  token: 'supervisor-1005-token-0123456789',
  scope: 'supervisor',
  extension: SUPERVISOR,
} as const;
const AGENT_TOKEN = {
  name: 'agent-1001',
  token: 'agent-1001-token-0123456789',
  scope: 'agent',
  extension: AGENT,
} as const;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Rig {
  server: ServerHandle;
  admin: EventStreamClient;
  supervisorStream: EventStreamClient;
  agentStream: EventStreamClient;
  phones: Map<string, BaresipPhone>;
  clients: EventStreamClient[];
}

async function startRig(notifyAgents: boolean): Promise<Rig> {
  let portMin = await allocatePortBlock(60);
  if (portMin % 2 === 1) portMin += 1;
  const server = await startServer(
    {
      ...PEER_AUTH,
      media: { portRange: { min: portMin, max: portMin + 57 }, workers: 1 },
      monitoring: {
        enabled: true,
        notifyAgents,
        raiseHandDtmf: '##',
        groups: [
          { name: 'floor', monitors: [SUPERVISOR], members: [AGENT, CUSTOMER], modes: ['all'] },
        ],
      },
      api: { tokens: [SUPERVISOR_TOKEN, AGENT_TOKEN] },
    },
    { extensions: EXTENSIONS },
  );
  const connect = (token: string) => EventStreamClient.connect(server.httpPort, { token });
  const admin = await connect(TEST_ADMIN_TOKEN.token);
  const supervisorStream = await connect(SUPERVISOR_TOKEN.token);
  const agentStream = await connect(AGENT_TOKEN.token);
  return {
    server,
    admin,
    supervisorStream,
    agentStream,
    phones: new Map(),
    clients: [admin, supervisorStream, agentStream],
  };
}

async function stopRig(rig: Rig | undefined): Promise<void> {
  if (rig === undefined) return;
  await Promise.all([...rig.phones.values()].map((p) => p.kill()));
  await Promise.all(rig.clients.map((c) => c.close()));
  await rig.server.stop();
}

/** Starts a phone for `user` and waits until it is registered and the admin stream says so. */
async function phone(rig: Rig, user: string): Promise<BaresipPhone> {
  const p = await startBaresip({
    user,
    password: `pw${user}`,
    serverPort: rig.server.sipPort,
    toneHz: TONES[user] ?? 1000,
    audioCodecs: 'pcmu',
  });
  rig.phones.set(user, p);
  await p.waitForRegistration(10000);
  await rig.admin.next((e) => e.type === 'registration.changed' && e.extension === user);
  return p;
}

/** The fields of an event that tell the story (no seq, time, ids). */
function story(e: StreamEvent): Record<string, unknown> {
  const { seq: _seq, time: _time, sessionId: _s, callId: _c, ...rest } = e;
  return rest;
}

/** The extensions an event names. */
function named(e: StreamEvent): string[] {
  return ['extension', 'agent', 'remote', 'supervisor', 'by']
    .map((k) => e[k])
    .filter((v): v is string => typeof v === 'string');
}

function expectOrderedAndTimed(events: readonly StreamEvent[]): void {
  for (const [i, e] of events.entries()) {
    expect(e.time).toMatch(ISO_TIME);
    expect(new Date(e.time).toISOString()).toBe(e.time);
    if (i > 0) {
      const prev = events[i - 1] as StreamEvent;
      expect(e.seq).toBeGreaterThan(prev.seq);
      expect(Date.parse(e.time)).toBeGreaterThanOrEqual(Date.parse(prev.time));
    }
  }
}

interface AuditLine {
  at: string;
  seq: number;
  action: string;
  trigger: string;
  actor: string | null;
  supervisor: string | null;
  agent: string | null;
  callId: string | null;
  sessionId: string | null;
  mode: string | null;
  from: string | null;
  reason: string | null;
}

function readAudit(server: ServerHandle): AuditLine[] {
  const file = (server.config.audit as { file: string }).file;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditLine);
}

/** Waits until the audit file holds an entry matching `match` (appends are async). */
async function auditUntil(
  server: ServerHandle,
  match: (e: AuditLine) => boolean,
  timeoutMs = 5000,
): Promise<AuditLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = readAudit(server);
    if (lines.some(match)) return lines;
    if (Date.now() > deadline) {
      throw new Error(`no matching audit entry within ${timeoutMs} ms: ${JSON.stringify(lines)}`);
    }
    await sleep(50);
  }
}

/**
 * Keys DTMF on a phone in a call like a person would: one `sndcode` per digit (baresip
 * ends each command with a key release). `sndcode ##` in one command works as well with
 * baresip 1.0.0 (two RFC 4733 events, one release), but is not what a keypad does.
 */
async function keyDigits(p: BaresipPhone, digits: string): Promise<void> {
  for (const d of digits) {
    expect((await p.command('sndcode', d)).ok).toBe(true);
    await sleep(300);
  }
}

interface Scenario {
  callId: string;
  sessionId: string;
}

/**
 * The scenario up to the end of the call: customer calls agent, the agent raises a hand,
 * the supervisor listens then whispers, the customer hangs up. Returns once the admin
 * stream has the monitor.ended.
 */
async function runScenario(rig: Rig): Promise<Scenario> {
  const { server, admin } = rig;
  const agent = await phone(rig, AGENT);
  const customer = await phone(rig, CUSTOMER);
  const supervisor = await phone(rig, SUPERVISOR);
  await phone(rig, OUTSIDER);

  expect((await customer.command('dial', `sip:${AGENT}@127.0.0.1:${server.sipPort}`)).ok).toBe(
    true,
  );
  await customer.waitForEvent('CALL_ESTABLISHED', 10000);
  await agent.waitForEvent('CALL_ESTABLISHED', 10000);
  const answered = await admin.next((e) => e.type === 'call.answered', 5000);
  const callId = answered.callId as string;
  await sleep(500); // RTP flowing both ways before the agent's digits

  await keyDigits(agent, '##');
  await admin.next((e) => e.type === 'hand.raised', 5000);

  expect((await supervisor.command('dial', `sip:*90${AGENT}@127.0.0.1:${server.sipPort}`)).ok).toBe(
    true,
  );
  await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
  const started = await admin.next((e) => e.type === 'monitor.started', 5000);
  const sessionId = started.sessionId as string;
  await sleep(800);

  await keyDigits(supervisor, '5');
  await admin.next((e) => e.type === 'monitor.mode-changed', 5000);
  await sleep(500);

  await customer.command('hangup');
  await customer.waitForEvent('CALL_CLOSED', 10000);
  await agent.waitForEvent('CALL_CLOSED', 10000);
  await supervisor.waitForEvent('CALL_CLOSED', 10000);
  await admin.next((e) => e.type === 'monitor.ended', 5000);
  return { callId, sessionId };
}

describe('event stream and audit log over a full scenario (notifyAgents: true)', () => {
  let rig: Rig | undefined;

  beforeAll(async () => {
    rig = await startRig(true);
  }, 30000);

  afterAll(async () => {
    await stopRig(rig);
  }, 30000);

  it('register, call, raise hand, monitor, whisper, end: in order on every scope, and audited', async () => {
    const r = rig as Rig;
    const { callId, sessionId } = await runScenario(r);
    // Give stragglers (a wrong extra event) a moment to show up before asserting totals.
    await sleep(300);

    // ---- admin: everything, in order --------------------------------------------------
    const all = [...r.admin.received];
    expectOrderedAndTimed(all);
    const call = { callId, agent: AGENT, remote: CUSTOMER, direction: 'internal' };
    const monitor = { sessionId, callId, supervisor: SUPERVISOR, agent: AGENT };
    const registered = (extension: string) => ({
      type: 'registration.changed',
      extension,
      registered: true,
      contacts: 1,
    });
    // call.quality comes every stats round while the figures change (periodic, not part
    // of the story): about this call, once it is answered; the rest is the story.
    const answeredSeq = all.find((e) => e.type === 'call.answered')?.seq ?? Infinity;
    for (const e of all.filter((x) => x.type === 'call.quality')) {
      expect({ callId: e.callId, agent: e.agent }).toEqual({ callId, agent: AGENT });
      expect(e.seq).toBeGreaterThan(answeredSeq);
    }
    expect(all.filter((e) => e.type !== 'call.quality')).toEqual([
      expect.objectContaining(registered(AGENT)),
      expect.objectContaining(registered(CUSTOMER)),
      expect.objectContaining(registered(SUPERVISOR)),
      expect.objectContaining(registered(OUTSIDER)),
      expect.objectContaining({ type: 'call.created', ...call }),
      expect.objectContaining({ type: 'call.answered', ...call }),
      expect.objectContaining({ type: 'hand.raised', callId, agent: AGENT, by: AGENT }),
      expect.objectContaining({ type: 'monitor.started', ...monitor, mode: 'listen' }),
      expect.objectContaining({
        type: 'hand.lowered',
        callId,
        agent: AGENT,
        by: SUPERVISOR,
        reason: 'supervisor-joined',
      }),
      expect.objectContaining({
        type: 'monitor.mode-changed',
        ...monitor,
        from: 'listen',
        mode: 'whisper',
      }),
      expect.objectContaining({ type: 'call.ended', ...call }),
      expect.objectContaining({
        type: 'monitor.ended',
        ...monitor,
        mode: 'whisper',
        reason: 'call-ended',
      }),
    ]);
    // The call ended because the customer (the caller) hung up.
    expect(all.find((e) => e.type === 'call.ended')?.endReason).toBeDefined();

    // ---- supervisor: its members' events and its own, the outsider's never -----------
    const sup = [...r.supervisorStream.received];
    expectOrderedAndTimed(sup);
    expect(sup).toEqual(all.filter((e) => !named(e).includes(OUTSIDER)));
    expect(sup.map(story)).toContainEqual(registered(SUPERVISOR));

    // ---- agent: only events about 1001 (monitor.* included: notifyAgents) ------------
    const mine = [...r.agentStream.received];
    expectOrderedAndTimed(mine);
    for (const e of mine) {
      if (e.type === 'registration.changed') expect(e.extension).toBe(AGENT);
      else if (e.type.startsWith('call.')) expect([e.agent, e.remote]).toContain(AGENT);
      else expect(e.agent).toBe(AGENT);
    }
    expect(mine.map((e) => e.type)).toEqual([
      'registration.changed',
      'call.created',
      'call.answered',
      'hand.raised',
      'monitor.started',
      'hand.lowered',
      'monitor.mode-changed',
      'call.ended',
      'monitor.ended',
    ]);
    // The same events (same seq and time) as the admin's.
    expect(mine).toEqual(all.filter((e) => mine.some((m) => m.seq === e.seq)));

    // ---- the audit file tells the same story -----------------------------------------
    const audit = await auditUntil(r.server, (e) => e.action === 'stop');
    expect(audit.map((e) => e.seq)).toEqual(audit.map((_, i) => i + 1));
    for (const e of audit) expect(new Date(e.at).toISOString()).toBe(e.at);
    const common = { callId, agent: AGENT };
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'hand-raised',
        trigger: 'dtmf',
        actor: AGENT,
        supervisor: null,
        sessionId: null,
        reason: 'raised',
        ...common,
      }),
      expect.objectContaining({
        action: 'start',
        trigger: 'feature-code',
        actor: SUPERVISOR,
        supervisor: SUPERVISOR,
        sessionId,
        mode: 'listen',
        from: null,
        reason: null,
        ...common,
      }),
      expect.objectContaining({
        action: 'hand-lowered',
        actor: SUPERVISOR,
        reason: 'supervisor-joined',
        ...common,
      }),
      expect.objectContaining({
        action: 'mode-change',
        trigger: 'dtmf',
        actor: SUPERVISOR,
        supervisor: SUPERVISOR,
        sessionId,
        mode: 'whisper',
        from: 'listen',
        ...common,
      }),
      expect.objectContaining({
        action: 'stop',
        supervisor: SUPERVISOR,
        sessionId,
        mode: 'whisper',
        reason: 'call-ended',
        ...common,
      }),
    ]);
    // The audit's story and the stream's monitoring events agree on the order.
    const streamStory = all
      .filter((e) => e.type.startsWith('monitor.') || e.type.startsWith('hand.'))
      .map((e) => e.type);
    expect(streamStory).toEqual([
      'hand.raised',
      'monitor.started',
      'hand.lowered',
      'monitor.mode-changed',
      'monitor.ended',
    ]);

    // ---- GET /v1/audit serves the same entries ---------------------------------------
    const viaApi = await r.server.httpGet(`/v1/audit?agent=${AGENT}`);
    expect(viaApi.status).toBe(200);
    expect(JSON.stringify(viaApi.json)).toContain(sessionId);

    // ---- a later client resumes with ?since= ------------------------------------------
    const from = all.find((e) => e.type === 'call.answered') as StreamEvent;
    const replayed = all.filter((e) => e.seq > from.seq);
    const late = await EventStreamClient.connect(r.server.httpPort, {
      token: TEST_ADMIN_TOKEN.token,
      since: from.seq,
    });
    r.clients.push(late);
    expect(await late.waitForCount(replayed.length)).toEqual(replayed);
    // The agent's replay is filtered like its live stream (token in the query this time).
    const lateAgent = await EventStreamClient.connect(r.server.httpPort, {
      token: AGENT_TOKEN.token,
      tokenInQuery: true,
      since: 0,
    });
    r.clients.push(lateAgent);
    expect(await lateAgent.waitForCount(mine.length)).toEqual(mine);
    await sleep(200);
    expect(lateAgent.received).toHaveLength(mine.length);

    // The phones leave: their un-REGISTERs are events too, after everything else.
    await Promise.all([...r.phones.values()].map((p) => p.quit()));
    r.phones.clear();
    const gone = await r.admin.next(
      (e) => e.type === 'registration.changed' && e.extension === AGENT && e.registered === false,
      5000,
    );
    expect(gone.seq).toBeGreaterThan((all[all.length - 1] as StreamEvent).seq);
    const agentGone = await r.agentStream.next(
      (e) => e.type === 'registration.changed' && e.registered === false,
      5000,
    );
    expect(agentGone).toEqual(gone);
  }, 120000);
});

describe('notifyAgents: false', () => {
  let rig: Rig | undefined;

  beforeAll(async () => {
    rig = await startRig(false);
  }, 30000);

  afterAll(async () => {
    await stopRig(rig);
  }, 30000);

  afterEach(async () => {
    if (rig) await Promise.all([...rig.phones.values()].map((p) => p.kill()));
  });

  it("the agent's client never learns it is monitored; admin and supervisor do", async () => {
    const r = rig as Rig;
    await runScenario(r);
    await sleep(300);

    const adminTypes = r.admin.received.map((e) => e.type);
    expect(adminTypes).toEqual(
      expect.arrayContaining(['monitor.started', 'monitor.mode-changed', 'monitor.ended']),
    );
    const supTypes = r.supervisorStream.received.map((e) => e.type);
    expect(supTypes).toEqual(
      expect.arrayContaining(['monitor.started', 'monitor.mode-changed', 'monitor.ended']),
    );

    const mine = r.agentStream.received;
    expectOrderedAndTimed(mine);
    expect(mine.filter((e) => e.type.startsWith('monitor.'))).toEqual([]);
    // Its own registration, call and hand are still there.
    expect(mine.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'registration.changed',
        'call.created',
        'call.answered',
        'call.ended',
      ]),
    );
    expect(mine.map((e) => e.type)).toContain('hand.raised');
    // Nothing on the agent's stream names the supervisor (a hand lowered "by 1005" the
    // moment it joined would tell the agent who is listening).
    for (const e of mine) expect(named(e)).not.toContain(SUPERVISOR);
    expect(mine.filter((e) => e.reason === 'supervisor-joined')).toEqual([]);
  }, 120000);
});
