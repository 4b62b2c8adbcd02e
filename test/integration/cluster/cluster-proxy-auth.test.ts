/**
 * Registrations through Kamailio (deploy/kamailio/kamailio.cfg) to two real instances
 * sharing a real Redis (docs/architecture.md "Deploying several instances"):
 *
 * - Digest lock-out behind the proxy: every REGISTER reaches the instances from
 *   Kamailio's address. With `cluster.trustedProxies` naming it, wrong passwords count
 *   against the phone's own address (the Via below Kamailio's, with the `received` it
 *   added) and the user: the guessing phone is locked out, even for another extension,
 *   and another phone behind the same proxy still registers.
 * - Path (RFC 3327) is not used: Kamailio adds none, the binding's source is Kamailio
 *   itself (on both instances), a REGISTER that requires Path is refused with 420 and
 *   `Unsupported: path`, one that only supports it is registered without a Path echoed.
 * - A binding mirrored from the other instance is logged at debug with its origin; only
 *   the instance that accepted the REGISTER logs "registered" at info.
 *
 * The phones are raw SIP clients on their own loopback addresses (127.0.0.61-63).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  SipClient,
  digestAuthorization,
  parseDigestChallenge,
  randomToken,
  type SipMessageView,
} from '../../helpers/sipClient.js';
import { waitFor } from '../../helpers/phoneScene.js';
import { makeExtensions, startServer, type ServerHandle } from '../../helpers/server.js';
import {
  instanceSpec,
  KamailioProc,
  probedIn,
  RedisProc,
  type InstanceSpec,
} from './clusterRig.js';

const EXTENSIONS = makeExtensions(1001, 5);
const MAX_FAILURES = 3;
const GUESSER = '127.0.0.61';
const OTHER_PHONE = '127.0.0.62';
const PATH_PHONE = '127.0.0.63';

let redis: RedisProc | undefined;
let kamailio: KamailioProc | undefined;
const specs: InstanceSpec[] = [];
const instances: ServerHandle[] = [];
const clients: SipClient[] = [];

beforeAll(async () => {
  redis = await RedisProc.start();
  specs.push(await instanceSpec('a'), await instanceSpec('b'));
  for (const spec of specs) {
    instances.push(
      await startServer(
        {
          auth: {
            algorithms: ['MD5'],
            lockout: { maxFailures: MAX_FAILURES, windowSec: 60, lockSec: 60 },
          },
          sip: { listen: { address: '127.0.0.1', udpPort: spec.sipPort, tcpPort: spec.sipPort } },
          media: { portRange: spec.rtp, workers: 1 },
          log: { level: 'debug' },
          cluster: {
            instanceId: spec.id,
            redis: { url: redis.url },
            trustedProxies: ['127.0.0.1'],
          },
        },
        { extensions: EXTENSIONS, startTimeoutMs: 45000 },
      ),
    );
  }
  kamailio = await KamailioProc.start(specs.map((s) => s.sipPort));
  for (const server of instances) expect(await probedIn(server)).toBe(true);
}, 150000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await kamailio?.stop();
  for (const server of instances) await server.stop({ expectCode: null });
  await redis?.close();
}, 60000);

async function phoneAt(address: string): Promise<SipClient> {
  const c = await SipClient.udp(0, address);
  clients.push(c);
  return c;
}

interface Attempt {
  readonly challenge: SipMessageView;
  readonly final: SipMessageView | undefined;
}

/**
 * REGISTER of `user` through Kamailio from `client` (its Contact on the client's own
 * address), answered with `password`; `headers` go on both requests.
 */
async function registerThrough(
  client: SipClient,
  address: string,
  user: string,
  password: string,
  headers: readonly string[] = [],
): Promise<Attempt> {
  const port = kamailio!.port;
  const uri = `sip:127.0.0.1:${port}`;
  const base = {
    method: 'REGISTER',
    target: `127.0.0.1:${port}`,
    uri,
    fromUser: user,
    callId: `${randomToken()}@${address}`,
    fromTag: randomToken(4),
  };
  const all = [`Contact: <sip:${user}@${address}:${client.localPort}>`, 'Expires: 300', ...headers];
  const first = await client.request({ ...base, cseq: 1, headers: all }, port);
  if (first.response.status !== 401) return { challenge: first.response, final: undefined };
  const challenge = parseDigestChallenge(first.response.headerAll('www-authenticate')[0]!);
  const auth = digestAuthorization(challenge, { username: user, password }, 'REGISTER', uri);
  const second = await client.request(
    { ...base, cseq: 2, headers: [...all, `Authorization: ${auth}`] },
    port,
  );
  return { challenge: first.response, final: second.response };
}

/** Which instance (index) logged `msg` for `extension` at `level` (pino numbers). */
function loggedBy(msg: string, extension: string, level?: number): number[] {
  return instances.flatMap((s, i) =>
    s
      .logs()
      .filter((e) => e.msg === msg && e.extension === extension)
      .filter((e) => level === undefined || e.level === level)
      .map(() => i),
  );
}

describe('several instances behind Kamailio: registrations', () => {
  it("locks out the guessing phone's address and user, not the proxy: another phone registers", async () => {
    const guesser = await phoneAt(GUESSER);
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILURES; i++) {
      const r = await registerThrough(guesser, GUESSER, '1001', 'wrong');
      statuses.push(r.final?.status ?? r.challenge.status ?? 0);
    }
    // 401 for each wrong password, 403 once the limit is reached.
    expect(statuses).toEqual([401, 401, 403]);

    // Another phone behind the same Kamailio registers: 1005 is hashed to the same
    // instance as 1001 (docs/architecture.md "Several instances"), checked below.
    const other = await phoneAt(OTHER_PHONE);
    const ok = await registerThrough(other, OTHER_PHONE, '1005', 'pw1005');
    expect(ok.final?.status).toBe(200);

    // The guessing phone is refused even with a right password, for its own extension
    // and for another one (its address is locked, not just the user 1001).
    const again = await registerThrough(guesser, GUESSER, '1001', 'pw1001');
    expect(again.final?.status ?? again.challenge.status).toBe(403);
    const otherUser = await registerThrough(guesser, GUESSER, '1003', 'pw1003');
    expect(otherUser.final?.status ?? otherUser.challenge.status).toBe(403);

    // All of it happened on one instance: the failures, the lock and 1005's registration.
    const failures = instances.flatMap((s, i) =>
      s
        .logs()
        .filter((e) => e.msg === 'authentication failed')
        .map((e) => ({ i, client: e.client })),
    );
    const failedOn = failures.map((f) => f.i);
    // Each failure's log names the phone it was counted against, not only Kamailio.
    expect(new Set(failures.map((f) => f.client))).toEqual(new Set([GUESSER]));
    const registeredOn = loggedBy('registered', '1005');
    expect(registeredOn).toHaveLength(1);
    expect(new Set(failedOn)).toEqual(new Set(registeredOn));
  }, 60000);

  it('logs a registration at info where it was accepted, and at debug with its origin where mirrored', async () => {
    // 1005 registered in the test above; the other instance mirrors it through Redis.
    const accepted = loggedBy('registered', '1005', 30);
    expect(accepted).toHaveLength(1);
    const mirroredOn = 1 - accepted[0]!;
    const origin = specs[accepted[0]!]!.id;
    expect(
      await waitFor(async () => loggedBy('registered (mirrored)', '1005').length > 0, 10000),
    ).toBe(true);
    const mirrored = instances[mirroredOn]!.logs().filter(
      (e) => e.msg === 'registered (mirrored)' && e.extension === '1005',
    );
    expect(mirrored.map((e) => ({ level: e.level, origin: e.origin }))).toEqual([
      { level: 20, origin },
    ]);
    // No instance logs the mirrored copy as a registration of its own.
    expect(loggedBy('registered', '1005')).toEqual([accepted[0]]);
  }, 30000);

  it('uses no Path: the binding leads to Kamailio on both instances; Require: path gets 420', async () => {
    const phone = await phoneAt(PATH_PHONE);
    // A phone that requires Path support is told at once that it is not there.
    const refused = await registerThrough(phone, PATH_PHONE, '1002', 'pw1002', [
      'Supported: path',
      'Require: path',
    ]);
    expect(refused.challenge.status).toBe(420);
    expect(refused.challenge.header('unsupported')).toBe('path');

    // One that merely supports it registers; no Path comes back (RFC 3327 §5.3: the
    // registrar echoes the Path it stored), since Kamailio added none and callwatch
    // routes by the binding's source.
    const ok = await registerThrough(phone, PATH_PHONE, '1002', 'pw1002', ['Supported: path']);
    expect(ok.final?.status).toBe(200);
    expect(ok.final?.headerAll('path')).toEqual([]);
    const kamailioSource = new RegExp(`127\\.0\\.0\\.1:${kamailio!.port}$`);
    for (const server of instances) {
      expect(
        await waitFor(async () => {
          const reg = (await server.registrations()).find((r) => r.extension === '1002');
          return reg?.contacts.some((c) => c.uri.includes(PATH_PHONE)) === true;
        }, 10000),
      ).toBe(true);
      const reg = (await server.registrations()).find((r) => r.extension === '1002');
      const contact = reg!.contacts.find((c) => c.uri.includes(PATH_PHONE))!;
      expect(contact.source).toMatch(kamailioSource);
    }
  }, 60000);
});
