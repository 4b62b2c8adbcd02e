/**
 * Phones' RTP senders in a process of their own, for tests whose verdict depends on WHEN
 * packets leave (recording alignment): a real phone is not paused by the test runner's
 * garbage collector or by the other suites it ran before, so neither is this one.
 *
 * Protocol (Node IPC, `serialization: 'advanced'`):
 *   started with argv[2] = N: binds N UDP sockets on 127.0.0.1 and sends `{ ports }`;
 *   `{ schedule: [{ at, socket, packet }] }` (at = ms after the start, ascending; packet =
 *     the datagram's bytes): kept, answered `{ loaded: n }`;
 *   `{ play: [port of socket 0, port of socket 1, …] }`: sends each scheduled packet from
 *     its socket to 127.0.0.1:<that socket's port> when due, paced without drift, and
 *     answers `{ done: true, sent, maxLateMs, received, startEpochMs }` (how far behind
 *     its due time the worst packet left; datagrams each socket received so far; when the
 *     schedule's time 0 was, as performance.timeOrigin + performance.now());
 *   the IPC channel closing (the test ended or died) closes the sockets and exits.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';

const count = Number(process.argv[2] ?? '1');
const sockets = [];
const received = new Array(count).fill(0);
for (let i = 0; i < count; i++) {
  const s = dgram.createSocket('udp4');
  await new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(undefined));
  });
  const index = sockets.length;
  s.on('message', () => received[index]++); // what was sent back: counted, not kept
  sockets.push(s);
}

function closeAll() {
  for (const s of sockets) s.close();
}
process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});

let schedule = [];
process.on('message', (message) => {
  if (Array.isArray(message?.schedule)) {
    schedule = message.schedule;
    process.send?.({ loaded: schedule.length });
  } else if (Array.isArray(message?.play)) {
    void run(message.play);
  }
});

async function run(destinations) {
  const start = performance.now();
  let maxLateMs = 0;
  let sent = 0;
  for (const item of schedule) {
    const due = start + item.at;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    maxLateMs = Math.max(maxLateMs, performance.now() - due);
    sockets[item.socket].send(item.packet, destinations[item.socket], '127.0.0.1');
    sent++;
  }
  process.send?.({
    done: true,
    sent,
    maxLateMs,
    received,
    startEpochMs: performance.timeOrigin + start,
  });
}

process.send?.({ ports: sockets.map((s) => s.address().port) });
