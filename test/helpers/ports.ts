/**
 * Free-port allocation for integration tests.
 *
 * Every test starts its own server and peers on 127.0.0.1, so ports must not collide
 * between jest workers, between tests in one worker, or with other programs (another
 * developer's jest run, the peer-baseline scripts in ../shared/peers). The strategy:
 *
 * - each jest worker probes its own slice of 30000–32767 (below Linux's ephemeral range
 *   32768–60999, so outgoing connections never land in it, clear of the peer baselines'
 *   fixed ports 15060–22225 and of config/default.yaml's media range 20000–29999, which
 *   a callwatch started with the defaults binds in bulk), starting at a random offset;
 *   when its slice is taken (single-file runs all are worker 1), the rest of the range;
 * - a candidate block is accepted only if every port in it can be bound right now for
 *   UDP and TCP on 127.0.0.1 (then released);
 * - ports handed out by this process are remembered and never handed out again, since
 *   a released port is not held until its user binds it.
 *
 * Blocks exist for peers that bind more than one port: baresip's `sip_listen P` also
 * binds P+1 (TLS), and wants a ctrl port and an RTP range.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const RANGE_FIRST = 30000;
const RANGE_LAST = 32767;
const SLICES = 8;
const HOST = '127.0.0.1';

const handedOut = new Set<number>();

function workerSlice(): { first: number; last: number } {
  const id = Number(process.env.JEST_WORKER_ID ?? '1');
  const size = Math.floor((RANGE_LAST - RANGE_FIRST + 1) / SLICES);
  const index = (Number.isFinite(id) && id > 0 ? id - 1 : 0) % SLICES;
  const first = RANGE_FIRST + index * size;
  return { first, last: first + size - 1 };
}

function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, HOST, () => s.close(() => resolve(true)));
  });
}

function canBindTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: HOST, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export interface PortCheck {
  /** Check UDP (default true). */
  readonly udp?: boolean;
  /** Check TCP (default true). */
  readonly tcp?: boolean;
}

/** Whether `port` can be bound on 127.0.0.1 right now (UDP and/or TCP). */
export async function isPortFree(port: number, check: PortCheck = {}): Promise<boolean> {
  if ((check.udp ?? true) && !(await canBindUdp(port))) return false;
  if ((check.tcp ?? true) && !(await canBindTcp(port))) return false;
  return true;
}

/**
 * The first port of a block of `size` consecutive ports that are all free for UDP and
 * TCP on 127.0.0.1 and have not been handed out by this process before.
 */
export async function allocatePortBlock(size: number, check: PortCheck = {}): Promise<number> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`bad block size ${size}`);
  const own = workerSlice();
  const found =
    (await findBlock(own.first, own.last, size, check)) ??
    (await findBlock(RANGE_FIRST, RANGE_LAST, size, check));
  if (found === undefined) {
    throw new Error(`no block of ${size} free ports in ${RANGE_FIRST}-${RANGE_LAST}`);
  }
  for (let p = found; p < found + size; p += 1) handedOut.add(p);
  return found;
}

async function findBlock(
  first: number,
  last: number,
  size: number,
  check: PortCheck,
): Promise<number | undefined> {
  const span = last - first + 1 - size;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i += 1) {
    const base = first + ((start + i) % span);
    let ok = true;
    for (let p = base; p < base + size && ok; p += 1) {
      ok = !handedOut.has(p) && (await isPortFree(p, check));
    }
    if (ok) return base;
  }
  return undefined;
}

/** One port free for both UDP and TCP (SIP listens on both with the same number). */
export function allocatePort(check: PortCheck = {}): Promise<number> {
  return allocatePortBlock(1, check);
}

/** `count` separate ports, each free for UDP and TCP. */
export async function allocatePorts(count: number, check: PortCheck = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) out.push(await allocatePort(check));
  return out;
}

/**
 * An RTP port range of the caller's own for a server under test (the default range may
 * be busy): `media.portRange` with an even minimum and room for ten legs.
 */
export async function allocateRtpRange(): Promise<{ min: number; max: number }> {
  const base = await allocatePortBlock(24);
  const min = base % 2 === 0 ? base : base + 1;
  return { min, max: min + 19 };
}

/**
 * UDP ports in [min, max] bound by anyone, from /proc/net/udp (hex local port), or, with
 * `pid`, only by that process (its sockets' inodes, from /proc/PID/fd): a port a peer or
 * another test's process holds in the range then does not count as the server's.
 */
export function boundUdpPorts(min: number, max: number, pid?: number): number[] {
  const owned = pid === undefined ? undefined : socketInodes(pid);
  const ports: number[] = [];
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined) continue;
      const port = parseInt(local.split(':')[1] ?? '', 16);
      if (port < min || port > max) continue;
      if (owned !== undefined && !owned.has(fields[9] ?? '')) continue;
      ports.push(port);
    }
  }
  return ports;
}

/** The inodes of the sockets process `pid` has open (none when it is gone). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/**
 * Resolves once something has bound UDP `port` (read from /proc/net/udp, so the check
 * never races the binder for the port): the event a test waits for before sending to a
 * peer it just started, instead of a fixed sleep.
 */
export async function waitForUdpBound(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (boundUdpPorts(port, port).length === 0) {
    if (Date.now() > deadline) throw new Error(`nothing bound UDP port ${port} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
