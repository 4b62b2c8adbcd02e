/**
 * What the RTP load generators (rtpLoad.mjs, roomLoad.mjs) share: their loopback sockets
 * (probe sockets read as packets arrive, the others stopped at the handle), 172-byte PCMU
 * packets, the drift-free 20 ms send schedule, latency histograms, and the IPC protocol
 * with the bench that forked them (setup → ports, start → started, stop → result).
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';

export const PACKET = 172; // 12-byte RTP header + 160 bytes of PCMU
export const FRAME_MS = 20;
const SLICES = 20; // 1 ms slices of the 20 ms period

/** Percentile q of histogram h (n samples, bins of binUs): the upper edge of its bin. */
export function pct(h, n, q, binUs) {
  if (n === 0) return null;
  const want = Math.ceil(q * n);
  let acc = 0;
  for (let b = 0; b < h.length; b++) {
    acc += h[b];
    if (acc >= want) return (b + 1) * binUs; // upper edge of the bin
  }
  return h.length * binUs;
}

/** Latency histogram in µs: `bins` bins of `binUs`, plus one for everything above. */
export class Histogram {
  constructor(binUs, bins) {
    this.binUs = binUs;
    this.bins = bins;
    this.hist = new Uint32Array(bins + 1);
    this.n = 0;
    this.max = 0;
  }

  add(us) {
    if (us > this.max) this.max = us;
    const b = us / this.binUs;
    this.hist[b < this.bins ? Math.floor(b) : this.bins]++;
    this.n++;
  }

  pct(q) {
    return pct(this.hist, this.n, q, this.binUs);
  }
}

/** Node keeps a dgram socket reading as long as it is bound; its handle can stop that
 *  (UDPWrap recvStop/recvStart, not public API: checked here so a change fails loudly). */
export function udpHandle(s) {
  const sym = Object.getOwnPropertySymbols(s).find((x) => String(x) === 'Symbol(state symbol)');
  const h = sym && s[sym].handle;
  if (typeof h?.recvStop !== 'function' || typeof h.recvStart !== 'function')
    throw new Error('dgram socket handle without recvStop/recvStart (Node version?)');
  return h;
}

/**
 * Binds one loopback socket per entry of `probe`: 1 = read as packets arrive
 * (onMessage(i, msg)), 0 = never read (8 KB buffer, receiving stopped at the handle, so
 * the kernel drops what it cannot queue). Errors go to onError.
 */
export async function openSockets(probe, onMessage, onError) {
  const socks = [];
  for (let i = 0; i < probe.length; i++) {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: probe[i] ? 1 << 20 : 8192 });
    await new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', onError);
    if (!probe[i]) udpHandle(s).recvStop();
    const idx = i;
    s.on('message', (msg) => onMessage(idx, msg));
    socks.push(s);
  }
  return socks;
}

/**
 * Connects socket i to targets[i] (the engine's legs); the `control` pairs after the
 * first `first` sockets are connected to each other. Returns every socket's target port.
 */
export async function connectSockets(socks, callTargets, first, control) {
  const targets = callTargets.slice();
  for (let k = 0; k < control; k++) {
    const a = first + 2 * k;
    targets[a] = socks[a + 1].address().port;
    targets[a + 1] = socks[a].address().port;
  }
  await Promise.all(
    socks.map((s, i) => new Promise((resolve) => s.connect(targets[i], '127.0.0.1', resolve))),
  );
  return targets;
}

/** One PCMU packet buffer per socket: μ-law silence, PT 0, SSRC ssrcBase + i. */
export function packetBuffers(count, ssrcBase) {
  return Array.from({ length: count }, (_, i) => {
    const b = Buffer.alloc(PACKET, 0xff); // PCMU silence
    b[0] = 0x80;
    b[1] = 0; // PT 0 PCMU
    b.writeUInt32BE((ssrcBase + i) >>> 0, 8); // SSRC
    return b;
  });
}

/** Writes frame f's sequence number and timestamp into the RTP header. */
export function stampFrame(b, f) {
  b.writeUInt16BE(f & 0xffff, 2);
  b.writeUInt32BE((f * 160) >>> 0, 4);
}

/**
 * The send schedule of `count` sockets: frame n of socket s is due at
 * t0 + n·20 ms + (s mod 20) ms (t0 = now + 5 ms), so the load is spread over the period
 * in 1 ms slices; a late timer sends every overdue frame at once (catch up), so the count
 * sent always matches the elapsed time. sendFrame(i, f) sends frame f of socket i.
 * Send lag (how late each slice's frame went out) is kept in 0.1 ms bins up to 100 ms.
 * flush() runs after each slice's frame (the batch sender's, batchSend.mjs).
 */
export function startPacer(count, sendFrame, flush = () => {}) {
  const bySlice = Array.from({ length: SLICES }, () => []);
  for (let i = 0; i < count; i++) bySlice[i % SLICES].push(i);
  const frameDone = new Int32Array(SLICES); // per slice: frames already sent
  const lagHist = new Uint32Array(1001);
  let lagN = 0;
  let lagMax = 0;
  let running = true;
  let timer = null;
  const t0 = performance.now() + 5;

  /** Sends every frame that is due, then sleeps until the next one. */
  function pump() {
    timer = null;
    if (!running) return;
    const now = performance.now();
    const elapsed = now - t0;
    let nextDue = Infinity;
    for (let sl = 0; sl < SLICES; sl++) {
      // frame n of slice sl is due at t0 + n·20 + sl
      const dueFrames = elapsed < sl ? 0 : Math.floor((elapsed - sl) / FRAME_MS) + 1;
      let f = frameDone[sl];
      if (f < dueFrames) {
        const list = bySlice[sl];
        for (; f < dueFrames; f++) {
          const lag = elapsed - (f * FRAME_MS + sl);
          if (lag > lagMax) lagMax = lag;
          lagHist[Math.min(1000, Math.floor(lag * 10))]++;
          lagN++;
          for (let k = 0; k < list.length; k++) sendFrame(list[k], f);
          flush();
        }
        frameDone[sl] = f;
      }
      const due = t0 + f * FRAME_MS + sl;
      if (due < nextDue) nextDue = due;
    }
    timer = setTimeout(pump, Math.max(0, nextDue - performance.now()));
  }
  pump();
  return {
    t0,
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
    },
    lagP99Ms: () => pct(lagHist, lagN, 0.99, 0.1),
    lagMaxMs: () => lagMax,
  };
}

/**
 * Answers the bench that forked this process: setup(m) → ports, start(m) → 'started',
 * stop(m) → the result, after which sockets() are closed and the process exits. Exits
 * when the parent is gone.
 */
export function serve({ setup, start, stop, sockets }) {
  process.on('message', async (m) => {
    try {
      if (m.type === 'setup') process.send({ type: 'ports', ports: await setup(m) });
      else if (m.type === 'start') {
        await start(m);
        process.send({ type: 'started' });
      } else if (m.type === 'stop') {
        const result = await stop(m);
        for (const s of sockets()) s.close();
        process.send(result, () => process.exit(0));
      }
    } catch (error) {
      process.send({ type: 'error', message: String(error?.stack ?? error) });
      process.exit(1);
    }
  });
  process.on('disconnect', () => process.exit(0)); // parent gone: never outlive it
}

/** Kernel drops per local port of this process's sockets, from /proc/net/udp. */
export function dropsByPort() {
  const byPort = new Map();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    byPort.set(parseInt(f[1].split(':')[1], 16), Number(f[f.length - 1]));
  }
  return byPort;
}
