#!/usr/bin/env node
/**
 * A fuzz of the native packet io's receive path (run by scripts/native-asan.sh under
 * AddressSanitizer/UBSan, or alone): one io with a "call" pair that must receive a
 * steady stream intact, and victim pairs that get truncated and oversized RTP/RTCP,
 * random garbage, zero-length datagrams and a flood on one port, from several sources;
 * and a recorded source on the relay fast path (a route placing into the io's own
 * recording, docs/architecture.md §3.7) that gets RTP with every header field mangled:
 * CSRC counts, extensions and padding that overrun the datagram, payload types it
 * records, leaves to JavaScript or does not know, sequence and timestamp jumps.
 * Checks: no crash, the call's stream arrives complete and in order, the counters add
 * up, and after close every fd and thread the io opened is gone. Bounded: --secs (default
 * 5) of load, loopback only. Exit code 0 = pass.
 *
 *   npm run build && node scripts/native-fuzz.mjs [--secs N] [--seed N]
 */
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { NativePacketIo, SLOT_BYTES } from '../dist/media/io/nativePacketIo.js';
import {
  RECORDER_STAT_FIELDS,
  RELAY_COUNT_FIELDS,
  RELAY_STATE_FIELDS,
  RS_LATE,
  RS_PACKETS,
} from '../dist/media/io/packetIo.js';

const HOST = '127.0.0.1';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECS = arg('--secs', 5);
let seed = arg('--seed', 12345) >>> 0;
/** xorshift32: a fuzz run is reproducible from its seed. */
const rand = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x100000000;
};
const randInt = (n) => Math.floor(rand() * n);

const fds = () => readdirSync('/proc/self/fd').length;
const threads = () => readdirSync('/proc/self/task').length;

/** A datagram of one of the shapes the receive path must survive. */
function junk() {
  switch (randInt(7)) {
    case 0:
      return Buffer.alloc(0); // zero-length
    case 1:
      return Buffer.from([0x80, 0x00, 0x12]); // RTP header cut short
    case 2: {
      const b = Buffer.alloc(8); // RTCP header claiming more than it has
      b[0] = 0x81;
      b[1] = 200;
      b.writeUInt16BE(0xffff, 2);
      return b;
    }
    case 3:
      return Buffer.alloc(SLOT_BYTES + 1 + randInt(8000), 0xaa); // oversized: dropped, counted
    case 4:
      return Buffer.alloc(SLOT_BYTES, 0x55); // exactly a slot
    default: {
      const b = Buffer.allocUnsafe(randInt(1500)); // garbage
      for (let i = 0; i < b.length; i++) b[i] = randInt(256);
      return b;
    }
  }
}

async function main() {
  const fds0 = fds();
  const threads0 = threads();
  const io = new NativePacketIo();
  const base = 46000 + 2 * randInt(1000);
  const pairs = [];
  for (let i = 0; pairs.length < 8 && i < 200; i++) {
    try {
      pairs.push(await io.bindPair(HOST, base + 2 * i));
    } catch (error) {
      if (error.code !== 'ERR_PORT_IN_USE') throw error;
    }
  }
  const [call, sender, ...victims] = pairs;
  const flooded = victims[0];
  const recorded = victims[1]; // the recorded source: relayed to `listener`, recorded
  const listener = victims[2];

  // The call: sequence numbers must arrive complete and in order, whatever else happens.
  const got = [];
  call.receive({
    rtp: (batch) => {
      for (let i = 0; i < batch.count; i++) got.push(batch.buffers[i].readUInt32BE(0));
    },
    rtcp: () => {},
    error: (e) => console.error('call error', e.message),
  });
  let victimBatches = 0;
  for (const v of victims) {
    const touch = (batch) => {
      victimBatches++;
      for (let i = 0; i < batch.count; i++) {
        // Read every byte delivered: out-of-bounds lengths would show under ASAN.
        const b = batch.buffers[i];
        let sum = 0;
        for (let j = 0; j < batch.lengths[i]; j++) sum += b[j];
        if (batch.lengths[i] > b.length || sum < 0) throw new Error('bad length');
        if (typeof batch.addresses[i] !== 'string') throw new Error('no address');
      }
    };
    v.receive({ rtp: touch, rtcp: touch, error: () => {} });
  }

  // The recorded source's route and recording (native/tap_recorder.h).
  const SSRC = 0x5eed5eed;
  const recording = io.recorders.open(8000, 160, 2, performance.now(), 2);
  io.recorders.tracks(recording, Int32Array.from([0, 1]));
  const payloadTypes = new Int16Array(128).fill(-1);
  payloadTypes[0] = 0;
  payloadTypes[8] = 8;
  payloadTypes[9] = 9;
  const law = new Uint8Array(128);
  law[0] = 1; // µ-law, placed by the event thread
  law[8] = 2; // A-law
  law[9] = 3; // G.722: left to JavaScript
  let seq = 1000;
  let ts = 160000;
  let routed = 0;
  const reroute = () => {
    const state = new Float64Array(RELAY_STATE_FIELDS);
    const reception = new Float64Array(RELAY_COUNT_FIELDS);
    recorded.unrelay(state, reception);
    state.fill(0);
    state[0] = SSRC; // source SSRC
    state[3] = seq; // highest sequence in: the next one sent is in order
    state[4] = ts; // reference timestamp in
    state[5] = performance.now(); // its arrival
    state[13] = 0x12345678; // SSRC out
    state[14] = 100; // max gap
    state[15] = 1e12; // max skew: the fuzz's timestamps are not paced
    state[16] = 8000;
    reception[5] = seq; // RFC 3550 A.1 max_seq
    reception[12] = 8000;
    const route = {
      address: HOST,
      port: listener.port,
      sourceAddress: HOST,
      sourcePort: sender.port,
      payloadTypes,
      recorder: { id: recording, slot: 0, law },
    };
    if (recorded.relay(listener, route, state, reception)) routed++;
  };
  /** An RTP packet of the recorded source with its header mangled one way or another. */
  const mangled = () => {
    const length = 12 + randInt(400);
    const b = Buffer.alloc(length);
    for (let i = 12; i < length; i++) b[i] = randInt(256);
    const roll = randInt(30); // 0-6: one field mangled, else a good packet
    seq = (seq + (roll === 0 ? randInt(65536) : 1)) & 0xffff;
    ts = (ts + (roll === 1 ? randInt(2 ** 32) : 160)) >>> 0;
    b[0] =
      0x80 | (roll === 2 ? randInt(16) : 0) | (roll === 3 ? 0x10 : 0) | (roll === 4 ? 0x20 : 0);
    if (roll === 5) b[0] = randInt(256);
    const pts = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 9, 13, 72, 96, randInt(128)];
    b[1] = pts[randInt(pts.length)] | (randInt(8) === 0 ? 0x80 : 0); // a marker now and then
    b.writeUInt16BE(seq, 2);
    b.writeUInt32BE(ts, 4);
    b.writeUInt32BE(roll === 6 ? randInt(2 ** 32) : SSRC, 8);
    if (roll === 3 && length >= 16) b.writeUInt16BE(randInt(65536), 14); // extension length
    if (roll === 4) b[length - 1] = randInt(256); // padding count
    return b;
  };

  const end = Date.now() + SECS * 1000;
  let sent = 0;
  let frames = 0;
  const taken = new Int16Array(160 * 2 * 50);
  const packet = Buffer.alloc(172);
  while (Date.now() < end) {
    reroute(); // a route that left JavaScript a datagram relays nothing more: set again
    for (let i = 0; i < 20; i++) {
      const b = mangled();
      sender.send(0, b, 0, b.length, recorded.port, HOST);
    }
    frames += io.recorders.take(recording, ((performance.now() - 100) * 8000) / 1000, taken, 0, 50);
    // 20 ms of the call.
    packet.writeUInt32BE(sent++, 0);
    sender.send(0, packet, 0, packet.length, call.port, HOST);
    for (let i = 0; i < 50; i++) {
      const v = victims[randInt(victims.length)];
      const b = junk();
      sender.send(randInt(2), b, 0, b.length, v.port + randInt(2), HOST);
    }
    for (let i = 0; i < 400; i++) sender.send(0, packet, 0, packet.length, flooded.port, HOST);
    await sleep(20);
  }
  await sleep(200);
  const recordStats = new Float64Array(RECORDER_STAT_FIELDS);
  io.recorders.stats(recording, recordStats);
  io.recorders.close(recording);
  const counters = io.counters();
  const ok =
    got.length === sent &&
    got.every((n, i) => n === i) &&
    counters.datagramsIn > 0 &&
    victimBatches > 0 &&
    routed > 0 &&
    recordStats[RS_PACKETS] > 0; // the recording placed packets
  await io.close();
  await sleep(50);
  const leftFds = fds() - fds0;
  const leftThreads = threads() - threads0;
  console.log(
    JSON.stringify({
      sent,
      received: got.length,
      inOrder: got.every((n, i) => n === i),
      counters,
      routes: routed,
      recorded: { placed: recordStats[RS_PACKETS], late: recordStats[RS_LATE], frames },
      leftFds,
      leftThreads,
    }),
  );
  if (!ok || leftFds !== 0 || leftThreads !== 0) {
    console.error('native-fuzz: FAIL');
    process.exit(1);
  }
  console.log('native-fuzz: pass');
}

await main();
