#!/usr/bin/env node
/**
 * `npm run cluster:demo`: the several-instances topology on one machine, from the repo's
 * configs (docs/architecture.md "Several instances"):
 *
 *   Redis        127.0.0.1:6379   (redis-server, no persistence, a temp dir)
 *   Kamailio     127.0.0.1:5060   deploy/kamailio/kamailio.cfg + dispatcher.list
 *   instance a   127.0.0.2:5060 (SIP), :8080 (HTTP)   deploy/cluster/instance-a.yaml
 *   instance b   127.0.0.3:5060 (SIP), :8080 (HTTP)   deploy/cluster/instance-b.yaml
 *
 * Each instance config is an overlay on config/default.yaml (the demo extensions, group
 * and token); the merged file is written to a temp dir. Phones register to
 * sip:<ext>@127.0.0.1:5060. Ctrl-C (SIGINT) or SIGTERM stops everything, newest first; so
 * does any part exiting on its own. The server must be built (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { mergeConfig } from '../deploy/cluster/instance-config.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'callwatch-cluster-demo-'));
/** @type {Array<{ name: string, child: import('node:child_process').ChildProcess }>} */
const running = [];
let stopping = false;

function say(text) {
  process.stderr.write(`cluster-demo: ${text}\n`);
}

function start(name, cmd, args, { prefix = true } = {}) {
  // Each child in a process group of its own: a Ctrl-C in the terminal reaches only this
  // script, which stops the parts in order (an instance given SIGINT and then SIGTERM
  // would take the second signal as "exit now").
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(prefix ? `[${name}] ${line}\n` : `${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping the rest`);
      void stopAll(1);
    }
  });
  running.push({ name, child });
  return child;
}

function portOpen(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function waitPort(host, port, what, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (stopping) return;
    if (await portOpen(host, port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not open ${host}:${port} within ${timeoutMs} ms`);
}

/** Whether a UDP socket is bound to host:port (/proc/net/udp, hex little-endian address). */
function udpBound(host, port) {
  const hex = host
    .split('.')
    .reverse()
    .map((b) => Number(b).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
  const local = `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1] === local);
}

async function waitUdp(host, port, what, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  while (!stopping && !udpBound(host, port)) {
    if (Date.now() > until) throw new Error(`${what} did not bind ${host}:${port} (UDP)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

function signal(entry, sig) {
  try {
    process.kill(-entry.child.pid, sig); // the whole group: Kamailio's workers too
  } catch {
    // already gone
  }
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const entry of [...running].reverse()) {
    signal(entry, 'SIGTERM');
    if (!(await exited(entry.child, 10000))) {
      say(`${entry.name} did not stop in 10 s; killing it`);
      signal(entry, 'SIGKILL');
      await exited(entry.child, 5000);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function main() {
  if (await portOpen('127.0.0.1', 6379)) {
    throw new Error('something already listens on 127.0.0.1:6379 (a Redis?); stop it first');
  }
  const cli = path.join(root, 'dist/src/cli.js');
  try {
    readFileSync(cli);
  } catch {
    throw new Error('the server is not built: run `npm run build` first');
  }
  say('starting Redis on 127.0.0.1:6379');
  // prettier-ignore
  start('redis', 'redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--dir', tmp, '--save', '', '--appendonly', 'no']);
  await waitPort('127.0.0.1', 6379, 'redis');

  const defaults = YAML.parse(readFileSync(path.join(root, 'config/default.yaml'), 'utf8'));
  for (const id of ['a', 'b']) {
    const overlay = YAML.parse(
      readFileSync(path.join(root, `deploy/cluster/instance-${id}.yaml`), 'utf8'),
    );
    const file = path.join(tmp, `instance-${id}.yaml`);
    writeFileSync(file, YAML.stringify(mergeConfig(defaults, overlay)));
    const { address } = overlay.http;
    say(`starting instance ${id} on ${address} (SIP 5060, HTTP 8080)`);
    start(`instance-${id}`, process.execPath, [cli, '--config', file], { prefix: false });
    await waitPort(address, 8080, `instance ${id}`);
  }

  say('starting Kamailio on 127.0.0.1:5060');
  // prettier-ignore
  start('kamailio', '/usr/sbin/kamailio', ['-f', 'deploy/kamailio/kamailio.cfg', '-A', `DS_LIST="${path.join(root, 'deploy/kamailio/dispatcher.list')}"`, '-DD', '-E', '-m', '64', '-M', '8', '-Y', tmp, '-P', path.join(tmp, 'kamailio.pid')]);
  await waitUdp('127.0.0.1', 5060, 'kamailio');
  say(
    'up: register phones to sip:<ext>@127.0.0.1:5060 (config/default.yaml: 1001..1003 agents, ' +
      '1005 supervisor); the APIs are http://127.0.0.2:8080 and http://127.0.0.3:8080 ' +
      "(GET /v1/cluster/calls lists both instances' calls). Ctrl-C stops everything.",
  );
}

main().catch((err) => {
  say(err instanceof Error ? err.message : String(err));
  void stopAll(1);
});
