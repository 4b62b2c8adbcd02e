/**
 * A start that fails half-way closes everything it had opened and says why: the CLI exits
 * non-zero with a message naming the step's config key and the reason, exits by itself
 * (no "still open at exit" forced exit: no socket, worker thread or timer left), and the
 * ports it had bound can be bound again at once. Each stage is forced in turn: the HTTP
 * port taken (after the media workers, SIP sockets, audit log and recordings folder were
 * opened), the SIP UDP or TCP port taken, a recordings folder that cannot be made (under
 * a regular file, under /proc), an audit file on /dev/full, and bad config files.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { allocatePort, allocateRtpRange, isPortFree } from '../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import {
  loadDefaultConfig,
  mergeConfig,
  runCli,
  startServer,
  writeTempConfig,
  type CliRun,
  type ConfigObject,
} from '../helpers/server.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeTempDir(d);
});

interface Setup {
  file: string;
  dir: string;
  sipPort: number;
  httpPort: number;
}

/** A config on ports and folders of its own, with the overrides merged in. */
async function setup(overrides: (dir: string) => ConfigObject = () => ({})): Promise<Setup> {
  const dir = makeTempDir('startfail');
  dirs.push(dir);
  const sipPort = await allocatePort();
  const httpPort = await allocatePort({ udp: false });
  const base = mergeConfig(loadDefaultConfig(), {
    sip: { listen: { address: '127.0.0.1', udpPort: sipPort, tcpPort: sipPort } },
    http: { address: '127.0.0.1', port: httpPort },
    media: { portRange: await allocateRtpRange(), workers: 2 },
    recording: { directory: path.join(dir, 'recordings') },
    audit: { file: path.join(dir, 'audit', 'monitoring.jsonl') },
  });
  const file = path.join(dir, 'callwatch.yaml');
  const config = mergeConfig(base, overrides(dir));
  const { stringify } = await import('yaml');
  writeFileSync(file, stringify(config));
  return { file, dir, sipPort, httpPort };
}

function show(r: CliRun): string {
  return `exit ${r.code ?? r.signal}${r.timedOut ? ' (killed: did not exit)' : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Exited non-zero by itself, on time, with every pattern in its output, nothing left open. */
function expectCleanRefusal(r: CliRun, mentions: RegExp[]): void {
  const all = `${r.stdout}\n${r.stderr}`;
  const problems = [
    ...(r.timedOut ? ['did not exit'] : []),
    ...(r.code === 0 || r.code === null ? [`exit code ${r.code}`] : []),
    ...mentions.filter((m) => !m.test(r.stderr)).map((m) => `stderr lacks ${m}`),
    ...(/still open at exit/.test(all) ? ['something was still open at exit'] : []),
    ...(/"msg":"listening"/.test(r.stdout) ? ['it said it was listening'] : []),
  ];
  if (problems.length > 0) throw new Error(`${problems.join('; ')}\n${show(r)}`);
}

/** Holds a TCP port on 127.0.0.1 until released. */
async function holdTcp(port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

async function holdUdp(port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', resolve);
  });
  return socket;
}

describe('a start that fails half-way', () => {
  it('HTTP port taken: names http.port, and the SIP ports it had bound are free again', async () => {
    const s = await setup();
    const blocker = await holdTcp(s.httpPort);
    try {
      const r = await runCli(['--config', s.file]);
      expectCleanRefusal(r, [/HTTP listener/, /http\.port/, /EADDRINUSE/]);
      // It got that far: the audit log and the recordings folder were made (and closed).
      expect(existsSync(path.join(s.dir, 'audit', 'monitoring.jsonl'))).toBe(true);
      expect(existsSync(path.join(s.dir, 'recordings'))).toBe(true);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    expect(await isPortFree(s.sipPort, { udp: true, tcp: true })).toBe(true);
    expect(await isPortFree(s.httpPort, { udp: false, tcp: true })).toBe(true);
  });

  it('SIP UDP port taken: names sip.listen, nothing after it was opened', async () => {
    const s = await setup();
    const blocker = await holdUdp(s.sipPort);
    try {
      const r = await runCli(['--config', s.file]);
      expectCleanRefusal(r, [/SIP listener/, /sip\.listen/, /EADDRINUSE/]);
      expect(existsSync(path.join(s.dir, 'audit'))).toBe(false);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    expect(await isPortFree(s.sipPort, { udp: true, tcp: true })).toBe(true);
    expect(await isPortFree(s.httpPort, { udp: false, tcp: true })).toBe(true);
  });

  it('SIP TCP port taken: the UDP socket it had bound is closed again', async () => {
    const s = await setup();
    const blocker = await holdTcp(s.sipPort);
    try {
      const r = await runCli(['--config', s.file]);
      expectCleanRefusal(r, [/sip\.listen/, /EADDRINUSE/]);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    expect(await isPortFree(s.sipPort, { udp: true, tcp: true })).toBe(true);
  });

  it('a recordings folder under a regular file: names recording.directory (ENOTDIR)', async () => {
    const s = await setup((dir) => {
      writeFileSync(path.join(dir, 'plain-file'), 'x');
      return { recording: { directory: path.join(dir, 'plain-file', 'recordings') } };
    });
    const r = await runCli(['--config', s.file]);
    expectCleanRefusal(r, [/recordings directory/, /recording\.directory/, /ENOTDIR/]);
    expect(await isPortFree(s.sipPort, { udp: true, tcp: true })).toBe(true);
  });

  it('a recordings folder under /proc: refused at once (no endless mkdir)', async () => {
    const s = await setup(() => ({ recording: { directory: '/proc/callwatch-test/recordings' } }));
    const r = await runCli(['--config', s.file]);
    expectCleanRefusal(r, [/recording\.directory/, /ENOENT/]);
    expect(await isPortFree(s.sipPort, { udp: true, tcp: true })).toBe(true);
  });

  it('an HTTP certificate that is not there: names http.tls.cert and the path', async () => {
    const s = await setup((dir) => ({
      http: { tls: { cert: path.join(dir, 'missing.crt'), key: path.join(dir, 'missing.key') } },
    }));
    const r = await runCli(['--config', s.file]);
    expectCleanRefusal(r, [/http\.tls\.cert/, /missing\.crt/, /ENOENT/]);
    expect(await isPortFree(s.sipPort, { udp: true, tcp: true })).toBe(true);
  });

  it('an audit file on /dev/full: names audit.file, not a regular file', async () => {
    const s = await setup(() => ({ audit: { file: '/dev/full' } }));
    const r = await runCli(['--config', s.file]);
    expectCleanRefusal(r, [/audit log \/dev\/full/, /audit\.file/, /not a regular file/]);
    expect(await isPortFree(s.sipPort, { udp: true, tcp: true })).toBe(true);
  });

  it('no recordings folder is needed when nothing is recorded', async () => {
    const server = await startServer({
      recording: { enabled: false, directory: '/proc/callwatch-test/recordings' },
    });
    expect((await server.httpGet('/healthz')).status).toBe(200);
    expect(await server.stop()).toBe(0);
  });
});

describe('bad config files', () => {
  it('a YAML syntax error names the file and the line', async () => {
    const file = writeTempConfig({}, 'sip:\n  listen: {\n    udpPort: 5060\n  bad: [\n');
    dirs.push(path.dirname(file));
    const r = await runCli(['--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/not valid YAML/);
    expect(r.stderr).toMatch(/line \d+/);
  });

  it('a wrong type names the file, the key and the reason', async () => {
    const s = await setup(() => ({ http: { port: 'eighty' } }));
    const r = await runCli(['--config', s.file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(s.file);
    expect(r.stderr).toMatch(/http\.port: .*expected number, received string/i);
  });

  it('a file mode that is not a quoted octal string names the key and says how', async () => {
    const s = await setup(() => ({
      recording: { fileMode: 640 },
      audit: { dirMode: '0650' },
    }));
    const r = await runCli(['--config', s.file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/recording\.fileMode: an octal mode as a quoted string/);
    expect(r.stderr).toMatch(
      /audit\.dirMode: the owner \(the server\) needs read, write and search/,
    );
  });
});
