#!/usr/bin/env node
/**
 * CPU per WebRTC leg, in-process, against the build (dist/media): the secure pair's own
 * packet path (media/secure/securePair.ts) — SRTP unprotect of what arrives and protect
 * of what is sent, through werift's SrtpSession, with the demux and the bookkeeping —
 * for 20 ms PCMU (160-byte payload) and Opus (~60-byte payload) packets, under both SRTP
 * profiles a browser may pick (AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM); beside it the
 * Opus encode and decode of one 20 ms frame (a browser leg transcoded to or from G.711
 * pays both). A leg's CPU per second = 50 × (unprotect + protect) [+ 50 × (encode + decode)
 * when transcoded]. The pair runs on a stub io (no sockets) with keys set directly: the
 * DTLS handshake is a one-off per call and is not measured here.
 *
 *   node bench/webrtc.bench.mjs [--packets N] [--no-build] [--results FILE] [--smoke]
 *
 * --smoke (npm run bench:smoke): 2000 packets, nothing written.
 *
 * Each figure is the best of 3 runs of N packets after a warm-up of N / 4, as process
 * CPU time (best: the machine is shared; CPU time is what descheduling cannot inflate).
 */
import { appendFileSync } from 'node:fs';
import { randomBytes as bytes } from 'node:crypto';
import { applySmoke, build, commandLine, emitResult, machine } from './lib/benchRuntime.mjs';

const args = process.argv.slice(2);
const opt = { packets: 20000, build: true, results: null, smoke: false };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--packets') opt.packets = Number(args[++i]);
  else if (args[i] === '--no-build') opt.build = false;
  else if (args[i] === '--results') opt.results = args[++i];
  else if (args[i] === '--smoke') opt.smoke = true;
  else throw new Error(`unknown option ${args[i]}`);
}
applySmoke(args, opt, { packets: 2000 });
if (opt.build) build();

const { SecurePair } = await import('../dist/media/secure/securePair.js');
const { loadWerift } = await import('../dist/media/secure/werift.js');
const { codecOf } = await import('../dist/media/codecs/table.js');
const w = await loadWerift();

function measure(fn) {
  for (let i = 0; i < opt.packets / 4; i++) fn(i);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const c = process.cpuUsage();
    for (let i = 0; i < opt.packets; i++) fn(i);
    const d = process.cpuUsage(c);
    best = Math.min(best, (d.user + d.system) / opt.packets);
  }
  return best;
}

function rtp(pt, seq, ts, payloadLength) {
  const buf = Buffer.alloc(12 + payloadLength, 0x55);
  buf[0] = 0x80;
  buf[1] = pt;
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE(ts >>> 0, 4);
  buf.writeUInt32BE(0x12345678, 8);
  return buf;
}

/** A secure pair with SRTP keys set as DTLS would, on a stub io; and the peer's session. */
function securedPair(profile) {
  const keyLen = w.keyLength(profile);
  const saltLen = w.saltLength(profile);
  const [k1, s1, k2, s2] = [bytes(keyLen), bytes(saltLen), bytes(keyLen), bytes(saltLen)];
  const ours = {
    localMasterKey: k1,
    localMasterSalt: s1,
    remoteMasterKey: k2,
    remoteMasterSalt: s2,
  };
  const theirs = {
    localMasterKey: k2,
    localMasterSalt: s2,
    remoteMasterKey: k1,
    remoteMasterSalt: s1,
  };
  let delivered = 0;
  let sent = 0;
  const inner = {
    address: '127.0.0.1',
    port: 40000,
    counters: {},
    receiver: null,
    receive(r) {
      this.receiver = r;
    },
    send() {
      sent++;
    },
    holds: () => false,
    close: async () => {},
  };
  const pair = new SecurePair(
    inner,
    w,
    { ufrag: 'u', pwd: 'p' },
    {
      peer() {},
      connected() {},
      failed() {},
    },
  );
  pair.receive({ rtp: () => delivered++, rtcp() {}, error() {} });
  pair.srtp = new w.SrtpSession({ keys: ours, profile });
  pair.srtcp = new w.SrtcpSession({ keys: ours, profile });
  pair.peerAddress = '127.0.0.1';
  pair.peerPort = 50000;
  pair.state = 'connected';
  const peer = new w.SrtpSession({ keys: theirs, profile });
  return { pair, inner, peer, counts: () => ({ delivered, sent }) };
}

const rows = [];
for (const [profileName, profile] of [
  ['AES_CM_128_HMAC_SHA1_80', w.ProtectionProfileAes128CmHmacSha1_80],
  ['AEAD_AES_128_GCM', w.ProtectionProfileAeadAes128Gcm],
]) {
  for (const [codec, pt, payload] of [
    ['PCMU', 0, 160],
    ['Opus', 111, 60],
  ]) {
    const { pair, inner, peer } = securedPair(profile);
    // What arrives: the peer's SRTP stream, in order, one packet per call of measure()
    // (warm-up N/4 and 3 runs of N): replaying packets would confuse the rollover counter.
    const n = Math.ceil(opt.packets / 4) + 3 * opt.packets;
    const incoming = [];
    for (let i = 0; i < n; i++) {
      const p = w.RtpPacket.deSerialize(rtp(pt, i, i * 960, payload));
      incoming.push(peer.encrypt(p.payload, p.header));
    }
    let next = 0;
    const batch = {
      count: 1,
      buffers: [incoming[0]],
      lengths: [incoming[0].length],
      addresses: ['127.0.0.1'],
      ports: [50000],
      arrivalMs: [0],
    };
    const unprotect = measure(() => {
      const b = incoming[next++];
      batch.buffers[0] = b;
      batch.lengths[0] = b.length;
      inner.receiver.rtp(batch);
    });
    const plain = rtp(pt, 0, 0, payload);
    let seq = 0;
    const protect = measure(() => {
      plain.writeUInt16BE(seq++ & 0xffff, 2);
      pair.send(0, plain, 0, plain.length, 50000, '127.0.0.1');
    });
    if (pair.secure.srtpAuthFailed > 0) throw new Error('packets failed authentication');
    rows.push({ profileName, codec, unprotect, protect });
  }
}

const opus = codecOf('opus');
const enc = opus.createEncoder();
const dec = opus.createDecoder();
const pcm = new Int16Array(opus.frameSamples);
for (let i = 0; i < pcm.length; i++)
  pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / opus.sampleRate));
const out = new Uint8Array(1500);
const decoded = new Int16Array(opus.maxFrameSamples);
const frame = out.slice(0, enc.encode(pcm, pcm.length, out));
const saved = opt.packets;
opt.packets = Math.min(opt.packets, 3000);
const encodeUs = measure(() => enc.encode(pcm, pcm.length, out));
const decodeUs = measure(() => dec.decode(frame, 0, frame.length, decoded));
opt.packets = saved;

const m = machine();
const lines = [
  `## WebRTC leg cost, µs CPU per 20 ms packet — ${new Date().toISOString()}`,
  '',
  `- machine: ${m.nproc} CPU (${m.cpu}), kernel ${m.kernel}; node ${m.node}; load at the end ${m.load}.`,
  `- command: \`${commandLine('webrtc.bench.mjs')}\``,
  `- the secure pair's path (media/secure/securePair.ts, werift SRTP) on a stub io, best of 3 × ${opt.packets} packets (process CPU, user + system); a leg per second = 50 packets each way.`,
  '',
  '| SRTP profile | codec | unprotect µs | protect µs | leg, relayed: ms CPU/s | leg, Opus transcoded: ms CPU/s |',
  '| --- | --- | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => {
    const relayed = (50 * (r.unprotect + r.protect)) / 1000;
    const transcoded = relayed + (r.codec === 'Opus' ? (50 * (encodeUs + decodeUs)) / 1000 : 0);
    return `| ${r.profileName} | ${r.codec} | ${r.unprotect.toFixed(1)} | ${r.protect.toFixed(1)} | ${relayed.toFixed(2)} | ${r.codec === 'Opus' ? transcoded.toFixed(2) : '—'} |`;
  }),
  '',
  `Opus (${opus.sampleRate} Hz frames): encode ${encodeUs.toFixed(1)} µs, decode ${decodeUs.toFixed(1)} µs per 20 ms frame.`,
  '',
];
console.log(lines.join('\n'));
emitResult({
  bench: 'webrtc',
  produced: rows.every((r) => r.unprotect > 0 && r.protect > 0) && encodeUs > 0,
  rows: rows.length,
  recording: 'off',
  mediaIo: 'none (no sockets: the secure pair on a stub io)',
});
if (opt.results !== null) appendFileSync(opt.results, `\n${lines.join('\n')}`);
enc.close();
dec.close();
