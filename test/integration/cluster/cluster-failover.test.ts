/**
 * Kamailio's failure route (deploy/kamailio/kamailio.cfg, docs/architecture.md "Several
 * instances"): an instance that answers 503 (shedding load, with Retry-After) is alive,
 * so Kamailio sends that request on to the next instance and keeps the busy one in its
 * set; a REGISTER's digest challenge (401), which runs through the same route, reaches
 * the phone unchanged. (An instance that does not answer at all is taken out: the kill
 * test in cluster-calls.test.ts.)
 *
 * Real Kamailio, Redis, one callwatch instance and baresip phones; the busy instance is a
 * stand-in on a UDP socket that answers Kamailio's probes 200 and every other new request
 * 503 with Retry-After, as callwatch's overload guard does (an overload cannot be made to
 * happen on cue). It is first in the dispatcher list, so the hash of the From user sends
 * 1002 to it first (1001 goes to the real instance).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import { startBaresip, type BaresipPhone } from '../../helpers/baresip.js';
import { allocatePort } from '../../helpers/ports.js';
import { waitFor } from '../../helpers/phoneScene.js';
import { makeExtensions, type ServerHandle } from '../../helpers/server.js';
import { buildResponse, parseMessage, serializeMessage } from '../../../sip/message/index.js';
import {
  instanceSpec,
  KamailioProc,
  probedIn,
  RedisProc,
  sharedCalls,
  startInstance,
} from './clusterRig.js';

/** An instance shedding load: OPTIONS 200, any other new request 503 + Retry-After. */
class BusyInstance {
  readonly received: string[] = [];
  readonly refused: string[] = [];
  private constructor(
    readonly port: number,
    private readonly socket: dgram.Socket,
  ) {
    socket.on('message', (data, from) => {
      const parsed = parseMessage(data);
      if (!parsed.ok || parsed.message.kind !== 'request') return;
      const request = parsed.message;
      this.received.push(request.method);
      if (request.method === 'ACK') return;
      const response =
        request.method === 'OPTIONS'
          ? buildResponse(request, 200)
          : buildResponse(request, 503, {
              toTag: 'busy',
              headers: [['Retry-After', '5']],
            });
      if (response.status === 503) this.refused.push(request.method);
      socket.send(serializeMessage(response), from.port, from.address);
    });
  }

  static async start(): Promise<BusyInstance> {
    const port = await allocatePort();
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => resolve());
    });
    return new BusyInstance(port, socket);
  }

  count(method: string): number {
    return this.received.filter((m) => m === method).length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

let redis: RedisProc | undefined;
let busy: BusyInstance | undefined;
let instance: ServerHandle | undefined;
let kamailio: KamailioProc | undefined;
let phones: BaresipPhone[] = [];

beforeAll(async () => {
  redis = await RedisProc.start();
  busy = await BusyInstance.start();
  const spec = await instanceSpec('a');
  instance = await startInstance(spec, redis.url, makeExtensions(1001, 2));
  kamailio = await KamailioProc.start([busy.port, spec.sipPort]);
  expect(await probedIn(instance)).toBe(true);
  expect(await waitFor(async () => busy!.count('OPTIONS') >= 2, 20000)).toBe(true);
}, 120000);

afterEach(async () => {
  await Promise.all(phones.map((p) => p.kill()));
  phones = [];
});

afterAll(async () => {
  await kamailio?.stop();
  await instance?.stop({ expectCode: null });
  await busy?.close();
  await redis?.close();
}, 60000);

async function phone(user: string): Promise<BaresipPhone> {
  const p = await startBaresip({
    user,
    password: `pw${user}`,
    serverPort: kamailio!.port,
    toneHz: user === '1002' ? 1000 : 440,
  });
  phones.push(p);
  await p.waitForRegistration(10000);
  return p;
}

describe("Kamailio's failure route", () => {
  it('a 503 moves the request to the next instance and leaves the busy one in the set; a 401 reaches the phone', async () => {
    // Registered through the busy instance's 503 and the real one's challenge.
    const caller = await phone('1002');
    const callee = await phone('1001');
    expect(busy!.refused).toContain('REGISTER');
    const challenged = caller
      .trace()
      .filter((t) => t.direction === 'received' && t.message.status === 401);
    expect(challenged.length).toBeGreaterThan(0);

    for (let round = 1; round <= 2; round++) {
      const invitesBefore = busy!.count('INVITE');
      expect((await caller.command('dial', `sip:1001@127.0.0.1:${kamailio!.port}`)).ok).toBe(true);
      await caller.waitForEvent('CALL_ESTABLISHED', 10000);
      await callee.waitForEvent('CALL_ESTABLISHED', 10000);
      // The busy instance was asked first and refused; the real one holds the call.
      expect(busy!.count('INVITE')).toBeGreaterThan(invitesBefore);
      expect(
        await waitFor(
          async () =>
            (await sharedCalls(instance!)).some(
              (c) => c.caller === '1002' && c.state === 'answered' && c.instance === 'a',
            ),
          5000,
        ),
      ).toBe(true);
      await caller.command('hangup');
      await caller.waitForEvent('CALL_CLOSED', 10000);
      await callee.waitForEvent('CALL_CLOSED', 10000);
    }

    const log = kamailio!.log();
    expect(log).toMatch(/busy \(503\) for INVITE from 1002; trying the next one/);
    // Never marked out: a 503 is an answer, not a dead instance.
    expect(log).not.toMatch(/marking it inactive/);
    // No phone ever saw a 503 (Kamailio's own "No Instance Available" included).
    for (const p of [caller, callee]) {
      expect(
        p.trace().filter((t) => t.direction === 'received' && t.message.status === 503),
      ).toEqual([]);
    }
  }, 120000);
});
