/**
 * Counting UDP sockets, to prove nothing leaks: /proc/net/udp{,6} lists every UDP socket
 * of the network namespace (local port and inode); /proc/self/fd links to the inodes of
 * this process's sockets, worker threads' included.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface UdpEntry {
  port: number;
  inode: number;
}

function udpTable(): UdpEntry[] {
  const entries: UdpEntry[] = [];
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const port = parseInt(cols[1]!.split(':')[1]!, 16);
      entries.push({ port, inode: Number(cols[9]) });
    }
  }
  return entries;
}

function ownSocketInodes(): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(Number(m[1]));
    } catch {
      // the fd closed while we listed
    }
  }
  return inodes;
}

/** UDP sockets open in this process. */
export function ownUdpSocketCount(): number {
  const own = ownSocketInodes();
  return udpTable().filter((e) => own.has(e.inode)).length;
}

/** Local ports in [min, max] bound by UDP sockets of this process, sorted. */
export function ownUdpPortsIn(min: number, max: number): number[] {
  const own = ownSocketInodes();
  return udpTable()
    .filter((e) => own.has(e.inode) && e.port >= min && e.port <= max)
    .map((e) => e.port)
    .sort((a, b) => a - b);
}
