#!/usr/bin/env node
/**
 * REGISTER with digest auth through the server's own path, in one process and without
 * sockets: the transport layer's receive (parse, Via stamping) and send (serialize, the
 * `sent` event the metrics count), the stack's UAS checks, the transaction layer, the
 * request router, the digest authenticator (MD5) and the registrar with its location
 * service, wired as src/server.ts wires them (SIP metrics and the `registered` log line
 * included; the UDP socket's `send` is replaced by a capture). One registration is two
 * requests, as SIPp's reg_auth_uac.xml: REGISTER → 401, REGISTER with Authorization → 200.
 *
 * The clock is virtual and moves 1000/RATE ms per registration, so the lingering
 * transactions (Timer J = 64·T1 over UDP, RFC 3261 §17.2.2) pile up and expire as at RATE/s
 * in real time. Reported per virtual second: µs of server time per registration (wall
 * time of the server calls only; the phone's side, building requests and computing its
 * digest, is outside), the longest single server call (one request, or the periodic
 * sweep: a pause the thread would make a queue of datagrams wait through; GC pauses land
 * in whichever call they interrupt) and the longest sweep, and the heap. With --retained: heap retained per lingering
 * transaction (after gc(), needs --expose-gc).
 *
 *   node --expose-gc bench/registerInProcess.mjs [--rate 8500] [--secs 40] [--warm 20000]
 *        [--retained 50000] [--phone ADDR] [--dist DIR] [--json]
 *
 * --phone: the phone's address (default 127.0.0.1); one of 13 characters or more (e.g.
 * 192.168.100.123) shows what a lingering transaction keeps when V8 slices that address.
 *
 * A/B: --dist points at another build's dist (e.g. a copy of main built in /tmp).
 * CPU figures from one process, robust to other load only as far as the wall time of a
 * synchronous call is; run A and B interleaved and read medians.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const RATE = Number(flag('--rate', 8500));
const SECS = Number(flag('--secs', 40));
const WARM = Number(flag('--warm', 20000));
const RETAINED = Number(flag('--retained', 0));
const DIST = path.resolve(flag('--dist', path.join(REPO, 'dist')));
const JSON_OUT = argv.includes('--json');

const load = (p) => import(pathToFileURL(path.join(DIST, p)).href);
const { TransportLayer } = await load('sip/transport/transportLayer.js');
const { SipStack } = await load('sip/stack.js');
const { TransactionLayer } = await load('sip/transaction/layer.js');
const { DigestAuthenticator } = await load('sip/auth/authenticator.js');
const { checkRequest } = await load('sip/core/requestChecks.js');
const { LocationService } = await load('src/registrar/locationService.js');
const { Registrar } = await load('src/registrar/registrar.js');
const { RegisterService } = await load('src/registrar/registerService.js');
const { SipRequestRouter } = await load('src/sipRequestRouter.js');
const { SipMetrics } = await load('src/metrics/sipMetrics.js');
const { REQUEST_CHECKS } = await load('src/server.js');
const { VirtualClock } = await load('src/warmup/virtualClock.js');
const { pino } = await import(pathToFileURL(path.join(REPO, 'node_modules/pino/pino.js')).href);

const REALM = 'callwatch';
const SERVER = { address: '127.0.0.1', port: 5060 };
const PHONE = { protocol: 'udp', address: flag('--phone', '127.0.0.1'), port: 5070 };
const USERS = 1000;

/** One stack as src/server.ts wires it for REGISTER; returns a receive function. */
function wire(clock) {
  const logger = pino(
    { level: 'info', base: { pid: process.pid } },
    pino.destination({ dest: '/dev/null', sync: true }),
  );
  const location = new LocationService((err) => logger.error({ err }, 'location listener'));
  location.on('registered', (b) => {
    const fields = { extension: b.extension, contact: b.contact, source: b.source };
    if (b.origin === undefined) logger.info(fields, 'registered');
  });
  const authenticator = new DigestAuthenticator({
    realm: REALM,
    algorithms: ['MD5'],
    lookupCredentials: (user) => {
      const n = Number(user);
      return n >= 1000 && n < 1000 + USERS ? { password: `pw${user}` } : undefined;
    },
    clock,
  });
  const transport = new TransportLayer({
    address: SERVER.address,
    maxMessageBytes: 65535,
    clock,
  });
  let captured;
  transport.udp = {
    send: (data) => {
      captured = data;
    },
  };
  transport.sentBy = () => ({ host: SERVER.address, port: SERVER.port });
  const sipLogger = logger.child({ module: 'sip' });
  const transactions = new TransactionLayer({
    clock,
    timers: { t1: 500, t2: 4000, t4: 5000 },
    send: (message, destination, bytes) => {
      transport.send(message, destination, bytes);
    },
    logger: sipLogger,
  });
  const stack = new SipStack(transport, transactions, {
    transport: {},
    timers: { t1: 500, t2: 4000, t4: 5000 },
    clock,
    logger: sipLogger,
    checkRequest: (request) => checkRequest(request, REQUEST_CHECKS),
    overload: { overloaded: () => false, retryAfterSec: 1 },
  });
  transport.on('request', (request, source) => stack.onTransportRequest(request, source));
  const metrics = new SipMetrics({
    transport,
    location,
    transactions: () => stack.transactionCounts(),
    stack,
    overloaded: () => false,
  });
  const registerService = new RegisterService({
    authenticator,
    registrar: new Registrar(location, {
      minExpires: 60,
      maxExpires: 3600,
      defaultExpires: 3600,
      maxContactsPerExtension: 5,
    }),
    isExtension: (n) => Number(n) >= 1000 && Number(n) < 1000 + USERS,
    domains: [],
    now: () => clock.now(),
  });
  const router = new SipRequestRouter({
    registerService,
    calls: undefined,
    presence: undefined,
    userAgent: 'callwatch',
  });
  stack.onRequest((incoming) => router.route(incoming));
  return {
    receive(bytes) {
      captured = undefined;
      transport.receive(bytes, PHONE);
      return captured;
    },
    sweep(now) {
      location.sweep(now);
      authenticator.sweep();
    },
    transactions,
    metrics,
  };
}

// ------------------------------------------------------------------- the phone's side
const md5 = (s) => createHash('md5').update(s).digest('hex');
const HA1 = Array.from({ length: USERS }, (_, i) => md5(`${1000 + i}:${REALM}:pw${1000 + i}`));
const URI = `sip:${SERVER.address}:${SERVER.port}`;
let callNumber = 0;
function request(user, callId, cseq, auth) {
  return Buffer.from(
    `REGISTER ${URI} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${PHONE.address}:${PHONE.port};branch=z9hG4bK-${callNumber}-${cseq}\r\n` +
      `From: <sip:${user}@${SERVER.address}>;tag=${process.pid}R${callNumber}\r\n` +
      `To: <sip:${user}@${SERVER.address}>\r\n` +
      `Call-ID: ${callId}\r\n` +
      `CSeq: ${cseq} REGISTER\r\n` +
      `Contact: <sip:${user}@${PHONE.address}:${PHONE.port}>\r\n` +
      (auth ? `Authorization: ${auth}\r\n` : '') +
      'Expires: 3600\r\nMax-Forwards: 70\r\nUser-Agent: peer-baseline\r\nContent-Length: 0\r\n\r\n',
  );
}
function authorization(user, challenge) {
  const text = challenge.toString('latin1');
  const nonce = /nonce="([^"]*)"/.exec(text)?.[1];
  if (nonce === undefined) throw new Error(`no challenge in:\n${text}`);
  const cnonce = ((callNumber * 2654435761) >>> 0).toString(16);
  const ha2 = md5(`REGISTER:${URI}`);
  const response = md5(`${HA1[Number(user) - 1000]}:${nonce}:00000001:${cnonce}:auth:${ha2}`);
  return (
    `Digest username="${user}",realm="${REALM}",cnonce="${cnonce}",nc=00000001,qop=auth,` +
    `uri="${URI}",nonce="${nonce}",response="${response}",algorithm=MD5`
  );
}

/** The longest single server call (one request, or the sweep) since the last reset, ms. */
let longest = 0;
/** The longest sweep since the last reset, ms. */
let longestSweep = 0;

/** One registration; returns the server's wall time in ms. */
function registerOnce(server) {
  callNumber++;
  const user = String(1000 + (callNumber % USERS));
  const callId = `${callNumber}-${process.pid}@127.0.0.1`;
  const first = request(user, callId, 1, undefined);
  const t0 = performance.now();
  const challenge = server.receive(first);
  const t1 = performance.now();
  if (challenge === undefined || challenge[8] !== 0x34 /* '4' of 401 */) {
    throw new Error(`expected 401, got ${challenge?.toString('latin1').slice(0, 40)}`);
  }
  const second = request(user, callId, 2, authorization(user, challenge));
  const t2 = performance.now();
  const ok = server.receive(second);
  const t3 = performance.now();
  if (ok === undefined || ok[8] !== 0x32 /* '2' of 200 */) {
    throw new Error(`expected 200, got ${ok?.toString('latin1').slice(0, 60)}`);
  }
  longest = Math.max(longest, t1 - t0, t3 - t2);
  return t1 - t0 + (t3 - t2);
}

// ------------------------------------------------------------------- runs
const clock = new VirtualClock();
const server = wire(clock);
const step = 1000 / RATE;
let sinceSweep = 0;
/** Registrations at RATE/s of virtual time; returns the server ms spent. */
function run(count) {
  let ms = 0;
  for (let i = 0; i < count; i++) {
    ms += registerOnce(server);
    clock.advance(step);
    sinceSweep += step;
    if (sinceSweep >= 1000) {
      sinceSweep -= 1000;
      const t = performance.now();
      server.sweep(clock.now());
      const took = performance.now() - t;
      ms += took;
      longest = Math.max(longest, took);
      longestSweep = Math.max(longestSweep, took);
    }
  }
  return ms;
}

const out = { rate: RATE, dist: path.relative(REPO, DIST) || DIST, node: process.version };
if (RETAINED > 0) {
  // Retained heap per lingering transaction: RETAINED registrations within Timer J.
  run(2000);
  globalThis.gc();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const lingering0 = server.transactions.size;
  for (let i = 0; i < RETAINED; i++) registerOnce(server);
  globalThis.gc();
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  const lingering = server.transactions.size - lingering0;
  out.retained = {
    registrations: RETAINED,
    lingering,
    bytesPerLingering: Math.round((after - before) / lingering),
  };
} else {
  run(WARM);
  const seconds = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let s = 0; s < SECS; s++) {
    longest = 0;
    longestSweep = 0;
    const ms = run(RATE);
    seconds.push({
      usPerReg: Math.round((ms * 1000) / RATE),
      longestMs: Math.round(longest * 100) / 100,
      sweepMs: Math.round(longestSweep * 100) / 100,
      lingering: server.transactions.size,
      heapMB: Math.round(process.memoryUsage().heapUsed / 1e6),
    });
  }
  const cpu = process.cpuUsage(cpu0);
  const regs = RATE * SECS;
  const serverUs = seconds.reduce((a, s) => a + s.usPerReg, 0) / SECS;
  out.perSecond = seconds;
  const longestAll = seconds.map((s) => s.longestMs).sort((a, b) => a - b);
  out.longestMs = { median: longestAll[Math.floor(SECS / 2)], max: longestAll[SECS - 1] };
  out.sweepMsMax = Math.max(...seconds.map((s) => s.sweepMs));
  out.meanUsPerReg = Math.round(serverUs * 10) / 10;
  out.steadyUsPerReg =
    SECS > 33
      ? Math.round((seconds.slice(33).reduce((a, s) => a + s.usPerReg, 0) / (SECS - 33)) * 10) / 10
      : undefined;
  out.processCpuUsPerReg = Math.round(((cpu.user + cpu.system) / regs) * 10) / 10;
  out.wallS = Math.round((performance.now() - wall0) / 100) / 10;
}
if (JSON_OUT) process.stdout.write(JSON.stringify(out) + '\n');
else console.log(out);
process.exit(0);
