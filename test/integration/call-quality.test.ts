/**
 * Live call quality (docs/architecture.md §11.5) on real sockets: a trunk customer and the
 * agent 1002 (raw SIP, monitoring-rig.ts) talk PCMU through the server. When the
 * customer's packets to the server lose 5 % (the test's customer drops every 20th
 * datagram it would send: what a lossy path does), the customer leg and the call are
 * rated poor within 5 s, in /v1/calls and as a `call.quality` event; a clean call is
 * rated good on both legs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { EventStreamClient } from '../helpers/eventStream.js';
import { audioPort, sdp } from './calls-rawRig.js';
import type { FakePhone } from './media/fakePhone.js';
import { AGENT_HZ, CUSTOMER_HZ, startMonitorRig, talk, type MonitorRig } from './monitoring-rig.js';

interface LegQuality {
  lossPct: number;
  jitterMs: number;
  mos: number;
  rating: string;
}
interface Quality {
  legs: { customer: LegQuality | null; agent: LegQuality | null; supervisors: unknown[] };
  rating: string;
}

let rig: MonitorRig;
let api: ApiClient;

beforeAll(async () => {
  rig = await startMonitorRig({ monitoring: { enabled: true } });
  api = apiClient(rig.server.httpPort);
}, 30000);

afterAll(async () => {
  await rig?.close();
});

/** Makes `phone` drop every `n`th datagram it sends (RTP and anything else). */
function dropEvery(phone: FakePhone, n: number): { dropped(): number } {
  const send = phone.send.bind(phone);
  let count = 0;
  let dropped = 0;
  phone.send = (buf: Buffer, port: number) => {
    if (++count % n === 0) {
      dropped++;
      return;
    }
    send(buf, port);
  };
  return { dropped: () => dropped };
}

async function qualityOf(id: string): Promise<Quality | null> {
  const calls = (await api.get('/v1/calls')).json as {
    calls: Array<{ id: string; quality: Quality | null }>;
  };
  return calls.calls.find((c) => c.id === id)?.quality ?? null;
}

/** Polls every 200 ms until `match` holds (or `ms` pass); returns the last quality. */
async function waitForQuality(
  id: string,
  match: (q: Quality | null) => boolean,
  ms: number,
): Promise<{ quality: Quality | null; afterMs: number }> {
  const start = Date.now();
  let quality = await qualityOf(id);
  while (!match(quality) && Date.now() - start < ms) {
    await new Promise((r) => setTimeout(r, 200));
    quality = await qualityOf(id);
  }
  return { quality, afterMs: Date.now() - start };
}

async function callWith(lossy: boolean) {
  const [customer, agent] = [await rig.phone(), await rig.phone()];
  const lossyPath = lossy ? dropEvery(customer, 20) : undefined;
  const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
  const talking = [
    talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ),
    talk(agent, audioPort(call.sdpToB), AGENT_HZ),
  ];
  const calls = (await api.get('/v1/calls')).json as { calls: Array<{ id: string }> };
  const id = calls.calls[calls.calls.length - 1]!.id;
  return {
    id,
    lossyPath,
    async end() {
      await Promise.all(talking.map((t) => t.stop()));
      await rig.hangUp(call);
    },
  };
}

describe('call quality', () => {
  it('rates a customer leg losing 5 % poor within 5 s, and publishes it', async () => {
    const events = await EventStreamClient.connect(rig.server.httpPort, {
      token: 'test-admin-token-0123456789',
    });
    const call = await callWith(true);
    try {
      const { quality, afterMs } = await waitForQuality(
        call.id,
        (q) => q?.legs.customer?.rating === 'poor',
        5000,
      );
      expect({ afterMs, quality }).toMatchObject({
        quality: { rating: 'poor', legs: { customer: { rating: 'poor' } } },
      });
      expect(afterMs).toBeLessThanOrEqual(5000);
      // The first report may cover a part of an interval (1 of 38 packets lost is 2.6 %);
      // a whole one (2 s, 100 packets) has 5 of them lost, one more or less at its edges.
      expect(quality!.legs.customer!.lossPct).toBeGreaterThan(0);
      expect(quality!.legs.customer!.mos).toBeLessThan(3.6);
      const first = JSON.stringify(quality);
      const next = await waitForQuality(call.id, (q) => JSON.stringify(q) !== first, 3000);
      expect(next.quality?.legs.customer?.lossPct).toBeGreaterThanOrEqual(4);
      expect(next.quality?.legs.customer?.lossPct).toBeLessThanOrEqual(6);
      expect(next.quality?.legs.customer?.rating).toBe('poor');
      // The agent's path is clean.
      expect(quality!.legs.agent).toMatchObject({ lossPct: 0, rating: 'good' });
      expect(call.lossyPath!.dropped()).toBeGreaterThan(0);
      const event = await events.next(
        (e) =>
          e.type === 'call.quality' &&
          e.callId === call.id &&
          (e.quality as Quality).legs.customer?.rating === 'poor',
      );
      expect(event).toMatchObject({ agent: '1002', quality: { rating: 'poor' } });
      const metrics = await rig.server.httpGet('/metrics');
      const poorLegs = /^callwatch_call_quality_legs\{rating="poor"\} (\d+)$/m.exec(metrics.body);
      expect(Number(poorLegs?.[1])).toBeGreaterThanOrEqual(1);
    } finally {
      await call.end();
      await events.close();
    }
    // Not more often than every 2 s per call.
    const times = events.received
      .filter((e) => e.type === 'call.quality' && e.callId === call.id)
      .map((e) => Date.parse(e.time));
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1800);
    }
  });

  it('rates a clean call good on both legs', async () => {
    const call = await callWith(false);
    try {
      const { quality } = await waitForQuality(
        call.id,
        (q) => q?.legs.customer !== null && q?.legs.agent !== null && q !== null,
        5000,
      );
      // Two reports at least, so the figures cover a whole interval.
      await new Promise((r) => setTimeout(r, 2200));
      const later = await qualityOf(call.id);
      expect(quality).not.toBeNull();
      expect(later).toMatchObject({
        rating: 'good',
        legs: {
          customer: { lossPct: 0, rating: 'good' },
          agent: { lossPct: 0, rating: 'good' },
          supervisors: [],
        },
      });
      expect(later!.legs.customer!.mos).toBeGreaterThanOrEqual(4.0);
    } finally {
      await call.end();
    }
  });
});
