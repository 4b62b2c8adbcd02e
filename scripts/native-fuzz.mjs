#!/usr/bin/env node
/**
 * A fuzz of the native packet io's receive path (run by scripts/native-asan.sh under
 * AddressSanitizer/UBSan, or alone): one io with a "call" pair that must receive a
 * steady stream intact, and victim pairs that get truncated and oversized RTP/RTCP,
 * random garbage, zero-length datagrams and a flood on one port, from several sources.
 * Checks: no crash, the call's stream arrives complete and in order, the counters add
 * up, and after close every fd and thread the io opened is gone. Bounded: --secs (default
 * 5) of load, loopback only. Exit code 0 = pass.
 *
 *   npm run build && node scripts/native-fuzz.mjs [--secs N] [--seed N]
 */
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NativePacketIo, SLOT_BYTES } from '../dist/media/io/nativePacketIo.js';

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

  const end = Date.now() + SECS * 1000;
  let sent = 0;
  const packet = Buffer.alloc(172);
  while (Date.now() < end) {
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
  const counters = io.counters();
  const ok =
    got.length === sent &&
    got.every((n, i) => n === i) &&
    counters.datagramsIn > 0 &&
    victimBatches > 0;
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
