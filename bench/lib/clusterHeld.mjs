/**
 * Monitored calls held through Kamailio (bench/cluster.bench.mjs `--work held`): one run
 * of N calls on one topology (direct, kam1, kam2), each a customer on the trunk calling
 * the DID to the agent extension 1001, each monitored in listen mode by its own
 * supervisor (extensions 2000 + c), all held for a measured window with audio flowing.
 *
 * Parts of a run, all real:
 * - The RTP generator bench/lib/roomLoad.mjs (forked; the mixer bench's e2e generator):
 *   3 sockets per call (customer, agent, supervisor), PCMU 50 pps each way, loss and
 *   lateness counted on the sockets of the first `o.heldProbe` calls, which it reads
 *   (the same verdict as mixer.bench.mjs e2e; the other calls' sockets are not read).
 * - Signalling by SIPp through the run's entry (Kamailio, or instance a for direct): the
 *   UAC bench/sipp/uac_held.xml places the calls from the customers' numbers (Kamailio's
 *   hash of the From user spreads them over the instances) with the generator's customer
 *   socket in the SDP; one UAS answers the agent's calls and one the supervisors' (their
 *   scenario is written here: udpHeldUas), each looking its socket up by the call's key
 *   in an indexed injection file (customer number for the agent, supervisor number for
 *   the supervisor) so the generator's three sockets of call c are the legs of call c.
 *   Every SIPp logs the instance's RTP port from the SDP it got: the generator's targets.
 * - 1001 registers from the agent UAS's port and the supervisors from the supervisor
 *   UAS's port, through the entry (so the instances' INVITEs go back through the same
 *   Kamailio); every supervisor's monitor is started by the REST API on instance a with
 *   the admin token naming the supervisor: a call anchored on b is forwarded there (the
 *   owner rings the supervisor's binding, which the other instance may have accepted).
 *
 * Measured: after every call is answered and every supervisor leg is up, the generator
 * sends for a 1 s warm-up and then the window; CPU of each process tree over the window
 * (procTrees.mjs), less its idle rate, per monitored call-second; per role (customer,
 * agent, supervisor) frames expected, lost and late at the receiving socket. PASS = lost
 * + late ≤ LOSS_LIMIT_PCT of expected at every role and the generator held ≥ 97 % of its
 * nominal rate.
 */
/* global fetch, AbortSignal -- Node 20's own */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, sleep, stop, waitExit } from './benchRuntime.mjs';
import { endGenerator, forkGenerator, startGenerator, stopGenerator } from './mediaBench.mjs';
import { HZ, treeTicks } from './procTrees.mjs';
import { runSipp } from './sippBench.mjs';

export const LOSS_LIMIT_PCT = 0.1;
export const SUPERVISOR_BASE = 2000;
const CUSTOMER_BASE = 5551000000;
const WARMUP_MS = 1000;
export const HELD_ADMIN_TOKEN = 'cluster-bench-admin-token-0001';
const UAC_SCENARIO = path.join(REPO, 'bench/sipp/uac_held.xml');

/** The instances' config sections for monitored calls (`supervisors` extensions 2000…). */
export function heldConfig(supervisors) {
  const numbers = Array.from({ length: supervisors }, (_, i) => String(SUPERVISOR_BASE + i));
  return {
    extensions: numbers.map((n) => ({
      number: n,
      password: `pw${n}`,
      displayName: `Supervisor ${n}`,
      role: 'supervisor',
    })),
    monitoring: {
      enabled: true,
      groups: [{ name: 'bench', monitors: numbers, members: ['1001'], modes: ['all'] }],
      // The agent's beep would put the agent on the mix for a moment: the generator's
      // relayed-lateness check reads the frame number carried in the relayed silence.
      tones: { monitorBeep: null },
    },
    api: { tokens: [{ name: 'bench', token: HELD_ADMIN_TOKEN, scope: 'admin', extension: null }] },
  };
}

/**
 * The UAS scenario: answers an INVITE with PCMU SDP naming the generator's socket for
 * the call (looked up by the first group of `keyRegexp`, searched as `searchIn` says, in
 * the indexed -inf file), logs `<role> <key> <instance's RTP port>`, then waits for the BYE.
 */
export function heldUas(role, searchIn, keyRegexp) {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- callwatch cluster bench (bench/lib/clusterHeld.mjs): the ${role}'s UAS. -->
<scenario name="uas_held_${role}">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="${keyRegexp}" ${searchIn} check_it="true" assign_to="k0,key"/>
      <ereg regexp="m=audio ([0-9]+)" search_in="body" check_it="true" assign_to="m0,port"/>
      <lookup assign_to="line" file="${role}.csv" key="[$key]"/>
      <log message="${role} [$key] [$port]"/>
    </action>
  </recv>
  <Reference variables="k0,m0"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]S[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:${role}@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=uas 1 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio [field1 file="${role}.csv" line="[$line]"] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20
      a=sendrecv
    ]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
</scenario>
`;
}

/** `role key port` lines SIPp's <log> actions wrote: key → the instance's RTP port. */
function loggedPorts(file, role) {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return new Map();
  }
  const out = new Map();
  for (const m of text.matchAll(new RegExp(`^${role} (\\d+) (\\d+)\\s*$`, 'gm')))
    out.set(m[1], Number(m[2]));
  return out;
}

async function waitUntil(what, ms, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(250);
  }
}

async function api(httpPort, method, urlPath, body) {
  const r = await fetch(`http://127.0.0.1:${httpPort}${urlPath}`, {
    method,
    headers: {
      authorization: `Bearer ${HELD_ADMIN_TOKEN}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30000),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** Registers `users` ([number, password]) from local `port` through `entryPort`. */
async function registerUsers(run, name, entryPort, port, users, peersDir) {
  const csv = path.join(run, `${name}_users.csv`);
  writeFileSync(
    csv,
    `SEQUENTIAL\n${users.map(([u, pw]) => `${u};[authentication username=${u} password=${pw}]`).join('\n')}\n`,
  );
  // prettier-ignore
  const { done } = await runSipp(run, `register_${name}`,
    [`127.0.0.1:${entryPort}`, '-sf', path.join(peersDir, 'sipp/reg_auth_uac.xml'), '-inf', csv,
      '-i', '127.0.0.1', '-p', String(port), '-nostdin', '-m', String(users.length),
      '-r', '50', '-timeout', '30s', '-trace_err', '-error_file', `register_${name}_errors.log`],
    40000,
  );
  if ((await done) !== 0)
    throw new Error(`REGISTER of ${name} through ${entryPort} failed (${run})`);
}

/**
 * One run: `n` monitored calls on the topology whose SIP entry is `entry`, held for
 * `o.heldSecs`. `setup`: { a, b, redis, ports, idle, peers } as cluster.bench.mjs keeps them.
 */
export async function runHeld(o, setup, run, { topology, entry, kam, n, did }) {
  const { a, b, redis, ports, idle } = setup;
  const rate = o.heldRate;
  const { gen, ports: sockets } = await forkGenerator('bench/lib/roomLoad.mjs', {
    calls: n,
    legs: 3,
    probe: Math.min(n, o.heldProbe),
    control: 0,
    burstEvery: 50,
    maxSecs: o.heldSecs + 60,
  });
  const uacs = [];
  try {
    const customers = Array.from({ length: n }, (_, c) => String(CUSTOMER_BASE + c));
    const supervisors = Array.from({ length: n }, (_, c) => String(SUPERVISOR_BASE + c));
    writeFileSync(
      path.join(run, 'customer.csv'),
      `SEQUENTIAL\n${customers.map((k, c) => `${k};${sockets[3 * c]}`).join('\n')}\n`,
    );
    writeFileSync(
      path.join(run, 'agent.csv'),
      `SEQUENTIAL\n${customers.map((k, c) => `${k};${sockets[3 * c + 1]}`).join('\n')}\n`,
    );
    writeFileSync(
      path.join(run, 'supervisor.csv'),
      `SEQUENTIAL\n${supervisors.map((k, c) => `${k};${sockets[3 * c + 2]}`).join('\n')}\n`,
    );
    // The agent's INVITE comes From the customer's number; the supervisor's names the
    // supervisor in its Request-URI (the binding's Contact user).
    writeFileSync(
      path.join(run, 'uas_agent.xml'),
      heldUas('agent', 'search_in="hdr" header="From:"', 'sip:([0-9]+)@'),
    );
    writeFileSync(
      path.join(run, 'uas_supervisor.xml'),
      heldUas('supervisor', 'search_in="msg"', '^INVITE sip:([0-9]+)@'),
    );

    await registerUsers(run, 'agent', entry, ports.uas, [['1001', 'pw1001']], setup.peers);
    await registerUsers(
      run,
      'supervisors',
      entry,
      ports.sup,
      supervisors.map((s) => [s, `pw${s}`]),
      setup.peers,
    );
    await sleep(1000); // the bindings reach the other instance through Redis

    // Every call must outlive the set-up, the monitors' start, the warm-up and the window.
    const holdMs =
      Math.ceil((n / rate) * 1000) +
      10000 +
      n * o.monitorBudgetMs +
      WARMUP_MS +
      o.heldSecs * 1000 +
      3000;
    const limitS = Math.ceil((2 * holdMs) / 1000) + 60;
    const common = ['-i', '127.0.0.1', '-nostdin', '-default_behaviors', 'all,-abortunexp'];
    const uas = (role, port, media, ctrl) =>
      runSipp(
        run,
        `uas_${role}`,
        // prettier-ignore
        ['-sf', path.join(run, `uas_${role}.xml`), ...common, '-p', String(port), '-mp', String(media),
          '-cp', String(ctrl), '-inf', `${role}.csv`, '-infindex', `${role}.csv`, '0', '-m', String(n),
          '-timeout', `${limitS}s`, '-trace_logs', '-log_file', `uas_${role}_logs.log`,
          '-trace_err', '-error_file', `uas_${role}_errors.log`],
        (limitS + 30) * 1000,
      );
    uacs.push(await uas('agent', ports.uas, ports.uasMedia, ports.uasCtrl));
    uacs.push(await uas('supervisor', ports.sup, ports.supMedia, ports.supCtrl));
    await sleep(500);
    const t0 = Date.now();
    // prettier-ignore
    const uac = await runSipp(run, 'uac',
      [`127.0.0.1:${entry}`, '-sf', UAC_SCENARIO, '-s', did, ...common, '-p', String(ports.uac),
        '-mp', String(ports.uacMedia), '-cp', String(ports.uacCtrl), '-inf', 'customer.csv',
        '-r', String(rate), '-rp', '1000', '-m', String(n), '-l', String(n), '-d', String(holdMs),
        '-timeout', `${limitS}s`, '-trace_logs', '-log_file', 'uac_logs.log',
        '-trace_err', '-error_file', 'uac_errors.log'],
      (limitS + 30) * 1000,
    );
    uacs.push(uac);

    const setupMs = Math.ceil((n / rate) * 1000) + 20000;
    const custPorts = await waitUntil('calls answered (customer side)', setupMs, () => {
      const m = loggedPorts(path.join(run, 'uac_logs.log'), 'customer');
      return m.size >= n && m;
    });
    const agentPorts = await waitUntil('calls answered (agent side)', 10000, () => {
      const m = loggedPorts(path.join(run, 'uas_agent_logs.log'), 'agent');
      return m.size >= n && m;
    });
    // The calls' ids (and owners) from the shared index, by the customer's number.
    const calls = await waitUntil('calls listed answered', 10000, async () => {
      const r = await api(a.http, 'GET', '/v1/cluster/calls');
      const byCaller = new Map(
        (r.json?.calls ?? [])
          .filter((c) => c.state === 'answered' && customers.includes(c.caller))
          .map((c) => [c.caller, c]),
      );
      return byCaller.size >= n && byCaller;
    });
    const onB = [...calls.values()].filter((c) => c.instance === 'b').length;
    // The monitors, through instance a (forwarded to b for b's calls), 8 at a time.
    const tMon = Date.now();
    const refused = [];
    for (let c0 = 0; c0 < n; c0 += 8) {
      await Promise.all(
        customers.slice(c0, c0 + 8).map(async (k, i) => {
          const c = c0 + i;
          const r = await api(a.http, 'POST', `/v1/calls/${calls.get(k).id}/monitors`, {
            mode: 'listen',
            supervisor: supervisors[c],
          });
          if (r.status !== 201)
            refused.push(`${supervisors[c]}: ${r.status} ${r.text.slice(0, 200)}`);
        }),
      );
    }
    if (refused.length)
      throw new Error(`monitor starts refused: ${refused.slice(0, 3).join('; ')}`);
    const supPorts = await waitUntil('supervisor legs answered', 10000 + n * 100, () => {
      const m = loggedPorts(path.join(run, 'uas_supervisor_logs.log'), 'supervisor');
      return m.size >= n && m;
    });
    const monitorsMs = Date.now() - tMon;
    const targets = [];
    for (let c = 0; c < n; c++) {
      targets.push(
        custPorts.get(customers[c]),
        agentPorts.get(customers[c]),
        supPorts.get(supervisors[c]),
      );
    }
    if (targets.some((t) => !Number.isInteger(t))) throw new Error('a leg without its RTP port');
    const sinceStart = Date.now() - t0;
    if (sinceStart + WARMUP_MS + o.heldSecs * 1000 + 2000 > holdMs)
      throw new Error(
        `set-up took ${sinceStart} ms: the calls would end inside the window (raise --monitor-budget-ms)`,
      );

    const trees = {
      callwatch_a: a.child.pid,
      callwatch_b: b.child.pid,
      redis: redis.child.pid,
      ...(kam ? { kamailio: kam.child.pid } : {}),
    };
    await startGenerator(gen, targets, WARMUP_MS);
    const before = treeTicks(trees);
    const w0 = Date.now();
    await sleep(o.heldSecs * 1000);
    const after = treeTicks(trees);
    const windowS = (Date.now() - w0) / 1000;
    const g = await stopGenerator(gen);
    const usPerCallSec = (names) => {
      const ticks = names.reduce(
        (t, k) => t + ((after[k] ?? 0) - (before[k] ?? 0)) - (idle[k] ?? 0) * windowS,
        0,
      );
      return ((ticks / HZ) * 1e6) / (n * windowS);
    };
    const roles = g.byRole.map((r) => ({
      ...r,
      badPct: (100 * (r.lost + r.late)) / Math.max(1, r.expected),
    }));
    const offeredPct = (100 * g.sendPps) / g.nominalPps;
    const r = {
      topology,
      n,
      run,
      onB,
      monitorsMs,
      windowS,
      roles,
      offeredPct,
      pass: roles.every((x) => x.badPct <= LOSS_LIMIT_PCT && x.expected > 0) && offeredPct >= 97,
      us: {
        callwatch: usPerCallSec(['callwatch_a', 'callwatch_b']),
        a: usPerCallSec(['callwatch_a']),
        b: usPerCallSec(['callwatch_b']),
        kamailio: kam ? usPerCallSec(['kamailio']) : 0,
        redis: usPerCallSec(['redis']),
      },
    };
    writeFileSync(path.join(run, 'result.json'), JSON.stringify({ ...r, g }, null, 2));
    // The calls end by themselves at the end of their hold (BYE from the UAC).
    for (const p of uacs) {
      if (!(await waitExit(p.child, holdMs + 30000))) await stop(p.child, 'SIGUSR1', 5000);
      await p.done;
    }
    return r;
  } finally {
    for (const p of uacs) await stop(p.child, 'SIGTERM', 5000);
    await endGenerator(gen);
  }
}
