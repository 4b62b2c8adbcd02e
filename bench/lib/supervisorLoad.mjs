/**
 * Load generator for bench/webrtc-supervisors.bench.mjs, run as a separate process
 * (child_process.fork) so its CPU is neither the engine worker's nor the bench's.
 *
 * Per call three sockets: customer and agent (plain RTP, PCMU) and the supervisor, which
 * is either a browser (kind 'webrtc': ICE check, DTLS client, SRTP, Opus) or a desk phone
 * (kind 'plain': PCMU), so one run can put both kinds side by side.
 *
 * A browser supervisor is made cheaply: the server's own SecurePair (dist/media/secure) in
 * the DTLS *client* role on a thin wrapper of this process's socket, after one STUN
 * binding request with the leg's ICE credentials (RFC 8445 §7.2.2) has latched us. Once
 * the SRTP keys exist, the supervisor's uplink (Opus, one 20 ms frame of a tone encoded
 * once) is encrypted ahead for the whole run, so sending costs a socket write; what the
 * server sends it is never decrypted: the RTP header of SRTP is in the clear (RFC 3711
 * §3.1), and that is all the loss and lateness counts need.
 *
 * Protocol (IPC, plain objects):
 *   parent → { type: 'setup', calls, kind }       child → { type: 'ports', ports, ice, fingerprint }
 *   parent → { type: 'connect', targets, ice, fingerprint, frames }
 *                                                  child → { type: 'connected', failed }
 *   parent → { type: 'start', warmupMs }           child → { type: 'started' }
 *   parent → { type: 'stop' }                      child → { type: 'result', … } and exits
 *
 * `ports`/`targets`: 3 per call (customer, agent, supervisor). Every socket sends one packet
 * per 20 ms on a drift-free schedule (a late timer sends every overdue frame). The
 * supervisor sockets are read from the warm-up's end until 'stop': per socket the frames
 * received, lost (holes in the timestamps the engine wrote: mixed frames are stamped
 * frame index × ticks per frame, 960 for Opus, 160 for PCMU) and late (transit — arrival
 * minus timestamp — more than 60 ms above the socket's lowest). Customer and agent
 * sockets are not read (the kernel drops what arrives once their buffers fill).
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';
import { REPO } from './benchRuntime.mjs';
import { stampFrame, udpHandle } from './rtpPackets.mjs';

const FRAME_MS = 20;
const LATE_MS = 60;
const dist = (p) => import(pathToFileURL(path.join(REPO, 'dist', p)).href);

const sockets = [];
let kind = 'webrtc';
let calls = 0;
let targets = [];
let cert = null;
let w = null;
const pairs = [];
/** Per call: the supervisor's packets, encrypted ahead (webrtc) or plain. */
const supPackets = [];
const stats = [];
let running = false;
let reading = false;
let timer;
let t0 = 0;
let sent = 0;

function rtp(pt, seq, ts, ssrc, payload) {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(b, 12);
  return b;
}

/** One 20 ms μ-law frame of a 440 Hz tone (customers) and silence (agents). */
function ulawTone(hz) {
  const out = Buffer.alloc(160);
  for (let i = 0; i < 160; i++) {
    const s = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
    // G.711 μ-law (ITU-T G.711), enough for a load pattern.
    const sign = s < 0 ? 0x80 : 0;
    let m = Math.min(Math.abs(s), 32635) + 0x84;
    let exp = 7;
    for (let mask = 0x4000; (m & mask) === 0 && exp > 0; mask >>= 1) exp--;
    out[i] = ~(sign | (exp << 4) | ((m >> (exp + 3)) & 0x0f)) & 0xff;
  }
  return out;
}

function newStats() {
  return {
    received: 0,
    base: 0,
    lo: null,
    hi: null,
    minTransit: Infinity,
    transits: [],
    ticks: 960,
  };
}

function onSupervisorPacket(c, msg) {
  if (!reading || msg.length < 12) return;
  const b0 = msg[0];
  if (b0 < 128 || b0 > 191) return;
  const pt = msg[1] & 0x7f;
  if (pt >= 72 && pt <= 95) return; // RTCP (rtcp-mux)
  const s = stats[c];
  s.received++;
  const ts = msg.readUInt32BE(4);
  // Relative to the first timestamp (a window of seconds never nears 2^31 ticks).
  if (s.lo === null) {
    s.base = ts;
    s.lo = 0;
    s.hi = 0;
  }
  const rel = (ts - s.base) | 0;
  if (rel < s.lo) s.lo = rel;
  if (rel > s.hi) s.hi = rel;
  const transit = performance.now() - (rel / s.ticks) * FRAME_MS;
  if (transit < s.minTransit) s.minTransit = transit;
  s.transits.push(transit);
}

async function setup(msg) {
  calls = msg.calls;
  kind = msg.kind;
  for (let i = 0; i < 3 * calls; i++) {
    const supervisor = i % 3 === 2;
    const sock = dgram.createSocket({
      type: 'udp4',
      recvBufferSize: supervisor ? 1 << 20 : 8192,
    });
    await new Promise((r) => sock.bind(0, '127.0.0.1', r));
    // Customer and agent sockets are never read: receiving stops at the handle, and the
    // kernel drops what they are sent (the relay's cost is the server's, not ours).
    if (!supervisor) udpHandle(sock).recvStop();
    sockets.push(sock);
  }
  let fingerprint = null;
  let ice = null;
  if (kind === 'webrtc') {
    const { createDtlsCertificate, newIceCredentials } = await dist('media/secure/certificate.js');
    w = await (await dist('media/secure/werift.js')).loadWerift();
    const id = await createDtlsCertificate();
    cert = id.certificate;
    fingerprint = id.fingerprint;
    ice = newIceCredentials();
  }
  process.send({ type: 'ports', ports: sockets.map((s) => s.address().port), ice, fingerprint });
}

/** ICE check, then DTLS as client through the server's SecurePair code; resolves connected. */
async function connectWebrtc(c, port, serverIce, ourIce, serverFingerprint, frames) {
  const { SecurePair } = await dist('media/secure/securePair.js');
  const sock = sockets[3 * c + 2];
  let receiver = null;
  const inner = {
    address: '127.0.0.1',
    port: sock.address().port,
    counters: {},
    receive(r) {
      receiver = r;
    },
    send(_ch, buf, offset, length, p, a) {
      sock.send(buf.subarray(offset, offset + length), p, a);
    },
    holds: () => false,
    close: async () => {},
  };
  let answered;
  const latched = new Promise((resolve) => (answered = resolve));
  let done;
  const connected = new Promise((resolve) => (done = resolve));
  const pair = new SecurePair(inner, w, ourIce, {
    peer() {},
    connected: () => done(true),
    failed: () => done(false),
  });
  pairs.push(pair);
  const batch = {
    count: 1,
    buffers: [null],
    lengths: [0],
    addresses: ['127.0.0.1'],
    ports: [port],
    arrivalMs: [0],
  };
  sock.on('message', (m) => {
    const b0 = m[0];
    if (b0 >= 128 && b0 <= 191) {
      onSupervisorPacket(c, m);
      return;
    }
    if (b0 <= 3) {
      answered(); // the server's STUN response: it has latched us
      return;
    }
    batch.buffers[0] = m;
    batch.lengths[0] = m.length;
    receiver?.rtp(batch);
  });
  const check = new w.Message(w.methods.BINDING, w.classes.REQUEST)
    .setAttribute('USERNAME', `${serverIce.ufrag}:${ourIce.ufrag}`)
    .setAttribute('PRIORITY', 0x6e7f00ff)
    .setAttribute('ICE-CONTROLLING', randomBytes(8).readBigUInt64BE())
    .setAttribute('USE-CANDIDATE', null)
    .addMessageIntegrity(Buffer.from(serverIce.pwd))
    .addFingerprint();
  // Checks until the server answers (it has latched us then); DTLS (client) starts after.
  let checks = 0;
  const checking = setInterval(() => {
    if (++checks > 50) clearInterval(checking);
    else sock.send(check.bytes, port, '127.0.0.1');
  }, 200);
  sock.send(check.bytes, port, '127.0.0.1');
  await latched;
  clearInterval(checking);
  pair.peerAddress = '127.0.0.1';
  pair.peerPort = port;
  pair.setRemote({ ice: null, fingerprints: [serverFingerprint], dtlsRole: 'client' }, cert);
  const ok = await Promise.race([connected, new Promise((r) => setTimeout(() => r(false), 40000))]);
  if (!ok) return false;
  // The uplink, encrypted ahead: one Opus frame of a tone, 960 ticks apart.
  const { codecOf } = await dist('media/codecs/table.js');
  const opus = codecOf('opus');
  const enc = opus.createEncoder();
  const pcm = new Int16Array(opus.frameSamples);
  for (let i = 0; i < pcm.length; i++)
    pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 1800 * i) / opus.sampleRate));
  const out = new Uint8Array(1500);
  const payload = Buffer.from(out.subarray(0, enc.encode(pcm, pcm.length, out)));
  enc.close();
  const ssrc = randomBytes(4).readUInt32BE();
  const list = [];
  for (let i = 0; i < frames; i++) {
    const p = w.RtpPacket.deSerialize(rtp(111, i, i * 960, ssrc, payload));
    list.push(pair.srtp.encrypt(p.payload, p.header));
  }
  supPackets[c] = list;
  return true;
}

async function connect(msg) {
  targets = msg.targets;
  let failed = 0;
  for (let c = 0; c < calls; c++) stats.push(newStats());
  if (kind === 'webrtc') {
    const BATCH = 10;
    for (let c0 = 0; c0 < calls; c0 += BATCH) {
      const batch = [];
      for (let c = c0; c < Math.min(calls, c0 + BATCH); c++) {
        batch.push(
          connectWebrtc(c, targets[3 * c + 2], msg.ice[c], msg.ourIce, msg.fingerprint, msg.frames),
        );
      }
      for (const ok of await Promise.all(batch)) if (!ok) failed++;
    }
  } else {
    const silence = Buffer.alloc(160, 0xff);
    for (let c = 0; c < calls; c++) {
      stats[c].ticks = 160;
      const ssrc = randomBytes(4).readUInt32BE();
      supPackets[c] = Array.from({ length: msg.frames }, (_, i) =>
        rtp(0, i, i * 160, ssrc, silence),
      );
      sockets[3 * c + 2].on('message', (m) => onSupervisorPacket(c, m));
    }
  }
  process.send({ type: 'connected', failed });
}

function start(msg) {
  const tone = ulawTone(440);
  const silence = Buffer.alloc(160, 0xff);
  // One buffer per customer and agent socket, stamped in place each frame (as rtpLoad).
  const party = [];
  for (let c = 0; c < calls; c++) {
    party.push([
      rtp(0, 0, 0, randomBytes(4).readUInt32BE(), tone),
      rtp(0, 0, 0, randomBytes(4).readUInt32BE(), silence),
    ]);
  }
  running = true;
  t0 = performance.now();
  let frame = 0;
  const tick = () => {
    if (!running) return;
    const due = Math.floor((performance.now() - t0) / FRAME_MS) + 1;
    for (; frame < due; frame++) {
      for (let c = 0; c < calls; c++) {
        for (let r = 0; r < 2; r++) {
          const b = party[c][r];
          stampFrame(b, frame);
          sockets[3 * c + r].send(b, targets[3 * c + r], '127.0.0.1');
        }
        const list = supPackets[c];
        if (list !== undefined && frame < list.length) {
          sockets[3 * c + 2].send(list[frame], targets[3 * c + 2], '127.0.0.1');
        }
        sent += 3;
      }
    }
    timer = setTimeout(tick, Math.max(0, t0 + frame * FRAME_MS - performance.now()));
  };
  tick();
  setTimeout(() => {
    reading = true;
  }, msg.warmupMs);
  process.send({ type: 'started' });
}

function result() {
  running = false;
  reading = false;
  clearTimeout(timer);
  const elapsedMs = performance.now() - t0;
  let received = 0;
  let expected = 0;
  let late = 0;
  for (const s of stats) {
    received += s.received;
    if (s.lo !== null) expected += Math.round((s.hi - s.lo) / s.ticks) + 1;
    for (const t of s.transits) if (t - s.minTransit > LATE_MS) late++;
  }
  const cpu = process.cpuUsage();
  process.send({
    type: 'result',
    received,
    expected,
    lost: Math.max(0, expected - received),
    late,
    silent: stats.filter((s) => s.received === 0).length,
    sent,
    nominal: (3 * calls * elapsedMs) / FRAME_MS,
    genCpuMs: (cpu.user + cpu.system) / 1000,
  });
  for (const p of pairs) void p.close();
  for (const s of sockets) s.close();
  setTimeout(() => process.exit(0), 200);
}

process.on('message', (msg) => {
  const run = {
    setup: () => setup(msg),
    connect: () => connect(msg),
    start: () => start(msg),
    stop: () => result(),
  }[msg.type];
  Promise.resolve(run?.()).catch((err) => {
    console.error('supervisorLoad:', err);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
