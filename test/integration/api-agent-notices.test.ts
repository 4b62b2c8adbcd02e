/**
 * What an agent is told about being monitored (monitoring.notices.agent), over the REST
 * API and the event stream with raw SIP phones (monitoring-rig.ts: the trunk is the
 * customer, 1002 the agent its DID rings). With notices on (the default), the agent's
 * call in /v1/calls lists who monitors it as `monitoredBy` (never `monitors` or `join`)
 * and its stream carries monitor.started/ended; with notices off, `monitoredBy` is empty
 * and no monitor.* reaches it. An agent lists the agents it may invite with
 * `/v1/extensions?callMonitorAccess=true` (and nothing else of /v1/extensions).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { apiClient, summary, type ApiClient } from '../helpers/api.js';
import { EventStreamClient } from '../helpers/eventStream.js';
import type { ExtensionSpec } from '../helpers/server.js';
import { RawDialog, sdp } from './calls-rawRig.js';
import {
  answerBye,
  answerServerInvite,
  ExtensionPhone,
  startMonitorRig,
  type MonitorRig,
} from './monitoring-rig.js';

const SAM = 'api-notices-supervisor-1005-token';
const AGENT = 'api-notices-agent-1002-token-000';
const EXTENSIONS = [
  { number: '1002', password: 'pw1002', callMonitorAccess: true },
  { number: '1003', password: 'pw1003', displayName: 'Carol', callMonitorAccess: true },
  { number: '1004', password: 'pw1004' },
  { number: '1005', password: 'pw1005', role: 'supervisor', displayName: 'Sam Super' },
] as unknown as ExtensionSpec[];

const rigs: MonitorRig[] = [];

afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
});

async function startNoticesRig(
  agentNotices: boolean,
): Promise<{ rig: MonitorRig; api: ApiClient }> {
  const rig = await startMonitorRig(
    {
      monitoring: {
        enabled: true,
        notices: { agent: agentNotices },
        groups: [{ name: 'support', monitors: ['1005'], members: ['1002'], modes: ['all'] }],
      },
      api: {
        tokens: [
          { name: 'sam', token: SAM, scope: 'supervisor', extension: '1005' },
          { name: 'alice', token: AGENT, scope: 'agent', extension: '1002' },
        ],
      },
    },
    EXTENSIONS,
  );
  rigs.push(rig);
  return { rig, api: apiClient(rig.server.httpPort) };
}

/** A raw phone answers the next INVITE the server sends it (200 with SDP, waits for the ACK). */
async function answerInvite(
  rig: MonitorRig,
  ext: ExtensionPhone,
  after: number,
): Promise<RawDialog> {
  return (await answerServerInvite(rig, ext, after)).dialog;
}

type CallItem = Record<string, unknown> & { id: string; agent: string | null };

/**
 * A trunk call to 1002 that 1005 monitors (listen, its phone answers); resolves with the
 * agent's view of the call, the agent's stream (closed by the caller) and a cleanup.
 */
async function monitoredCall(rig: MonitorRig, api: ApiClient) {
  const agentStream = await EventStreamClient.connect(rig.server.httpPort, { token: AGENT });
  const supStream = await EventStreamClient.connect(rig.server.httpPort, { token: SAM });
  const sam = await rig.extension('1005');
  await sam.register();
  const [customer, agentMedia] = [await rig.phone(), await rig.phone()];
  const call = await rig.placeCall({
    offer: sdp(customer.port),
    answer: () => sdp(agentMedia.port),
  });
  const listed = (await api.get('/v1/calls')).json as { calls: CallItem[] };
  const id = listed.calls.find((c) => c.agent === '1002')!.id;
  const after = sam.client.received.length;
  const started = await api.post(
    `/v1/calls/${encodeURIComponent(id)}/monitors`,
    {
      mode: 'listen',
    },
    SAM,
  );
  expect(started.status).toBe(201);
  const session = (started.json as { id: string }).id;
  const dialog = await answerInvite(rig, sam, after);
  await supStream.next((e) => e.type === 'monitor.started');
  const agentView = async (): Promise<CallItem> => {
    const r = await api.get('/v1/calls', AGENT);
    expect(r.status).toBe(200);
    const calls = (r.json as { calls: CallItem[] }).calls;
    expect(calls.map((c) => c.id)).toEqual([id]);
    return calls[0]!;
  };
  return {
    id,
    agentStream,
    agentView,
    async end() {
      const byeAfter = dialog.client.received.length;
      expect((await api.delete(`/v1/monitors/${session}`, SAM)).status).toBe(204);
      await answerBye(dialog, byeAfter);
      await supStream.next((e) => e.type === 'monitor.ended');
      await supStream.close();
      await rig.hangUp(call);
    },
  };
}

describe('agent notices on (the default)', () => {
  it("lists who monitors the agent's call and streams monitor.* to it", async () => {
    const { rig, api } = await startNoticesRig(true);
    const m = await monitoredCall(rig, api);
    try {
      const view = await m.agentView();
      expect(view.monitoredBy).toEqual([
        { supervisor: '1005', supervisorName: 'Sam Super', mode: 'listen' },
      ]);
      expect(view).not.toHaveProperty('monitors');
      expect(view).not.toHaveProperty('join');
      expect(await m.agentStream.next((e) => e.type === 'monitor.started')).toMatchObject({
        callId: m.id,
        supervisor: '1005',
        agent: '1002',
        mode: 'listen',
      });
      // Supervisors and admin see monitors, never monitoredBy.
      const sup = (await api.get('/v1/calls', SAM)).json as { calls: CallItem[] };
      expect(sup.calls[0]).toHaveProperty('monitors');
      expect(sup.calls[0]).not.toHaveProperty('monitoredBy');
    } finally {
      await m.end();
    }
    expect(await m.agentStream.next((e) => e.type === 'monitor.ended')).toMatchObject({
      callId: m.id,
    });
    await m.agentStream.close();
  });

  it('lists the agents an agent may invite, and nothing else of /v1/extensions', async () => {
    const { api } = await startNoticesRig(true);
    const r = await api.get('/v1/extensions?callMonitorAccess=true', AGENT);
    expect(r.status).toBe(200);
    const list = (r.json as { extensions: Array<Record<string, unknown>> }).extensions;
    // Not itself, not 1004 (no callMonitorAccess).
    expect(list.map((e) => [e.number, e.displayName])).toEqual([['1003', 'Carol']]);
    expect(list[0]).toMatchObject({ registered: false, inCall: false, presence: 'available' });
    for (const path of ['/v1/extensions', '/v1/extensions?callMonitorAccess=false']) {
      expect(summary(await api.get(path, AGENT))).toMatchObject({
        status: 403,
        body: { error: { code: 'forbidden' } },
      });
    }
    const admin = (await api.get('/v1/extensions?callMonitorAccess=true')).json as {
      extensions: Array<{ number: string }>;
    };
    expect(admin.extensions.map((e) => e.number)).toEqual(['1002', '1003']);
    expect((await api.get('/v1/extensions?callMonitorAccess=maybe')).status).toBe(400);
  });
});

describe('agent notices off', () => {
  it('gives the agent an empty monitoredBy and no monitor.* events', async () => {
    const { rig, api } = await startNoticesRig(false);
    const m = await monitoredCall(rig, api);
    try {
      const view = await m.agentView();
      expect(view.monitoredBy).toEqual([]);
      expect(view).not.toHaveProperty('monitors');
      // The agent raises its hand: an event it sees, after anything published before.
      const hand = await api.post(`/v1/calls/${encodeURIComponent(m.id)}/hand`, undefined, AGENT);
      expect(hand.status).toBe(200);
      await m.agentStream.next((e) => e.type === 'hand.raised');
      expect(m.agentStream.received.filter((e) => e.type.startsWith('monitor.'))).toEqual([]);
    } finally {
      await m.end();
      await m.agentStream.close();
    }
  });
});
