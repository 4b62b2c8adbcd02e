/**
 * Overload protection end to end: SIPp sends first REGISTERs at 5000/s for 3 s (15 000
 * requests; SIPp bursts them) to a server whose queue-delay limit is lowered to 20 ms, and
 * the server is stopped (SIGSTOP) for 400 ms one second in: whether 5000/s alone outruns
 * it depends on the machine (a quiet 2-core box with the native SIP socket keeps up), but
 * the 2000 requests queued behind a stopped process are a backlog on any machine. The
 * server must answer some of them 503 with Retry-After (RFC 3261 §21.5.4) instead of
 * leaving them in its socket queue; every request gets an answer (401 or 503) with few
 * retransmissions (without shedding the same load makes 165-180 % retransmissions here);
 * the shed requests are counted in /metrics; and once the burst is over a normal digest
 * registration succeeds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { allocatePort } from '../helpers/ports.js';
import { makeExtensions, PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';
import { assertSippExit, authRow, runSipp } from '../helpers/sipp.js';

const EXTENSIONS = makeExtensions(1000, 100);
const RATE = 5000;
const CALLS = 3 * RATE;

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer(
    { ...PEER_AUTH, sip: { overload: { maxQueueDelayMs: 20, sampleMs: 50, retryAfterSec: 3 } } },
    { extensions: EXTENSIONS },
  );
});

afterAll(async () => {
  await server?.stop();
});

describe('REGISTER above capacity', () => {
  it('sheds with 503 + Retry-After, answers everything, no retransmission storm', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => [String(1000 + i)]);
    const running = runSipp({
      scenario: 'reg_overload.xml',
      remote: `127.0.0.1:${server.sipPort}`,
      calls: CALLS,
      rate: RATE,
      injection: { rows },
      traceLogs: true,
      timeoutSec: 60,
      outerTimeoutSec: 90,
      extraArgs: ['-max_recv_loops', '100000', '-max_sched_loops', '100000'],
    });
    // An overloaded host, made certain: the whole server stops while SIPp keeps sending.
    await sleep(1000);
    process.kill(server.pid, 'SIGSTOP');
    try {
      await sleep(400);
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    const r = await running;
    assertSippExit(r, 0);
    expect(r.successful).toBe(CALLS);
    const shed = (r.logs.match(/^503 retry-after 3$/gm) ?? []).length;
    expect(shed).toBeGreaterThan(0);
    expect(r.logs).not.toMatch(/^503 retry-after (?!3$)/m);
    const retransmissions = Number(r.stats['Retransmissions(C)']);
    // Measured on a 2-core box: 0.1-7 % with shedding, 165-180 % without (4000/s).
    expect(retransmissions).toBeLessThan(CALLS * 0.25);
    // A shed request's retransmission may be shed again: the counter counts both.
    expect(await server.metric('callwatch_sip_overload_rejections_total')).toBeGreaterThanOrEqual(
      shed,
    );

    // The burst is over: a normal registration goes through.
    const ok = await runSipp({
      scenario: 'reg_auth.xml',
      remote: `127.0.0.1:${server.sipPort}`,
      localPort: await allocatePort(),
      calls: 1,
      injection: { rows: [authRow('1001', 'pw1001', 'sip:1001@127.0.0.1:5999', '300')] },
    });
    assertSippExit(ok, 0);
    expect(ok.successful).toBe(1);
  });
});
