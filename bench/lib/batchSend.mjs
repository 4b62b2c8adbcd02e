/**
 * Batched sends for the benches' RTP generators (rtpLoad.mjs, roomLoad.mjs): the frames of
 * one send slot go out with one call into the project's native addon (native/, the media
 * engine's own `sendQueue`: one io_uring submission of a sendmsg per datagram, whatever
 * its socket; sendto each where io_uring is refused), not one `dgram` send each.
 *
 * Why: a generator sends from one socket per phone (the engine latches onto each leg's
 * address, RFC 4961), so sendmmsg(2), which takes one socket, batches nothing, and
 * `socket.send` costs several µs of JavaScript, libuv and a system call per datagram: at
 * 400 monitored calls (60 000 datagrams/s) the generator took over half a core and was
 * itself hundreds of ms late on its engine-free control pairs. Here a datagram costs the
 * generator a few int32 writes and its share of one submission.
 *
 * The sockets stay node:dgram sockets (bound, connected, probe sockets read through their
 * 'message' events, the others stopped at the handle as rtpPackets.mjs does); only their
 * file descriptors are handed to the addon, so what the engine sees is unchanged: each
 * phone's datagrams from its own port, to its leg. Each socket's packet lives in one
 * shared buffer (`packet(i)` is its view, written in place before `stage(i)`); a socket
 * staged twice before a flush is flushed first, so each datagram leaves with its own
 * bytes. Without the addon (not built) every `stage` is a plain `dgram` send.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { URL, fileURLToPath } from 'node:url';
import { udpHandle } from './rtpPackets.mjs';

// native/send_ring.h: per queued datagram, six int32.
const SEND_INTS = 6;
const SEND_FD = 0;
const SEND_OFFSET = 1;
const SEND_LENGTH = 2;
const SEND_PORT = 3;
const SEND_ADDR = 4;

const ADDON = fileURLToPath(new URL('../../build/Release/callwatch_native.node', import.meta.url));

/** The addon, or null (with the reason) when it is not built or not usable. */
function loadAddon() {
  if (process.env.CALLWATCH_BENCH_BATCH_SEND === '0')
    return { addon: null, why: 'CALLWATCH_BENCH_BATCH_SEND=0' };
  if (process.platform !== 'linux') return { addon: null, why: 'not Linux' };
  if (!existsSync(ADDON)) return { addon: null, why: `${ADDON} not built` };
  try {
    const addon = createRequire(import.meta.url)(ADDON);
    if (typeof addon.NativeIo?.prototype?.sendQueue !== 'function')
      return { addon: null, why: 'the addon has no sendQueue (rebuild it)' };
    return { addon, why: '' };
  } catch (error) {
    return { addon: null, why: String(error?.message ?? error) };
  }
}

/** An IPv4 literal as the addon takes it: its 4 bytes in memory order, read as one int32. */
function addr4(address) {
  const bytes = new Uint8Array(address.split('.').map(Number));
  return new Int32Array(bytes.buffer)[0];
}

/**
 * A sender for `socks` (bound and connected dgram sockets; `targets[i]` the port socket i
 * is connected to on `address`), packets of `bytes` bytes. `onError()` per datagram refused.
 */
export function createBatchSender(socks, targets, bytes, onError, address = '127.0.0.1') {
  const n = socks.length;
  const data = new Uint8Array(n * bytes);
  const views = Array.from({ length: n }, (_, i) => Buffer.from(data.buffer, i * bytes, bytes));
  const { addon, why } = loadAddon();
  if (addon === null) {
    return {
      kind: () => `dgram, one send per datagram (${why})`,
      packet: (i) => views[i],
      // dgram may read the buffer after send() returns: send a copy.
      stage: (i) => socks[i].send(Buffer.from(views[i]), (err) => err && onError()),
      flush() {},
      close() {},
    };
  }
  // The addon's io object: its event thread stays idle (no socket is bound through it);
  // the smallest arena it takes is two slots (its two halves).
  const io = new addon.NativeIo(
    new ArrayBuffer(2 * 64),
    new ArrayBuffer(2 * 32),
    new ArrayBuffer(2 * 8),
    2,
    64,
    () => {},
  );
  io.unref();
  const fds = socks.map((s) => udpHandle(s).fd);
  if (fds.some((fd) => !(fd >= 0))) throw new Error('a dgram socket without a file descriptor');
  const to = addr4(address);
  const queue = new Int32Array(n * SEND_INTS);
  const stagedIn = new Int32Array(n).fill(-1); // the flush a socket was last staged in
  let count = 0;
  let flushes = 0;
  let closed = false;
  let ringAtClose = false;
  const flush = () => {
    if (count === 0 || closed) return;
    const failed = io.sendQueue(data, queue, count);
    for (let k = 0; k < failed; k++) onError();
    count = 0;
    flushes++;
  };
  return {
    kind: () =>
      `native addon sendQueue, one call per send slot (${(closed ? ringAtClose : io.sendsUseRing()) ? 'io_uring' : 'sendto each'})`,
    packet: (i) => views[i],
    stage(i) {
      if (stagedIn[i] === flushes) flush(); // its bytes are about to change: send them first
      const e = count * SEND_INTS;
      queue[e + SEND_FD] = fds[i];
      queue[e + SEND_OFFSET] = i * bytes;
      queue[e + SEND_LENGTH] = bytes;
      queue[e + SEND_PORT] = targets[i];
      queue[e + SEND_ADDR] = to;
      stagedIn[i] = flushes;
      count++;
    },
    flush,
    close() {
      if (closed) return;
      flush();
      ringAtClose = io.sendsUseRing();
      closed = true;
      io.close();
    },
  };
}
