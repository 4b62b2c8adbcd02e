/**
 * CPU of process trees from /proc (utime + stime of a process and all its descendants,
 * every thread included), in clock ticks (USER_HZ): what the cluster benches charge to
 * each part (an instance, Kamailio and its workers, Redis).
 */
import { readFileSync, readdirSync } from 'node:fs';

export const HZ = 100; // USER_HZ on Linux

/** pid → { ppid, ticks } for every process (utime + stime, /proc/PID/stat). */
function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // comm may hold blanks and parentheses: the fields start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    table.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
  }
  return table;
}

/** CPU ticks of each named tree ({name: pid}): the process and all its descendants. */
export function treeTicks(trees) {
  const table = processTable();
  const children = new Map();
  for (const [pid, p] of table) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  const out = {};
  for (const [name, root] of Object.entries(trees)) {
    let sum = 0;
    const todo = [root];
    while (todo.length) {
      const pid = todo.pop();
      sum += table.get(pid)?.ticks ?? 0;
      todo.push(...(children.get(pid) ?? []));
    }
    out[name] = sum;
  }
  return out;
}
