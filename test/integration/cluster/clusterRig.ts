/**
 * The several-instances topology for a test, from the repo's own configs: a Redis of its
 * own (free port, temp dir), two callwatch instances sharing it, and Kamailio with
 * deploy/kamailio/kamailio.cfg in front of them, all on 127.0.0.1 and free ports. Every
 * process started here is stopped by `stop()`, and killed at exit at the latest.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { allocatePort, allocatePortBlock, waitForUdpBound } from '../../helpers/ports.js';
import {
  LineCapture,
  makeTempDir,
  removeTempDir,
  stopChild,
  trackChild,
  waitForClose,
} from '../../helpers/processes.js';
import {
  PEER_AUTH,
  REPO_ROOT,
  startServer,
  type ConfigObject,
  type ExtensionSpec,
  type ServerHandle,
} from '../../helpers/server.js';
import { waitFor } from '../../helpers/phoneScene.js';

export const KAMAILIO_CFG = path.join(REPO_ROOT, 'deploy/kamailio/kamailio.cfg');

export interface IndexedCall {
  id: string;
  instance: string;
  caller: string;
  callee: string;
  state: string;
}

/** A child process with its captured output. */
interface Proc {
  child: ChildProcess;
  out: LineCapture;
}

function run(cmd: string, args: string[], group: boolean): Proc {
  const child = spawn(cmd, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  trackChild(child, group);
  const out = new LineCapture(4000);
  out.attach(child.stdout!);
  out.attach(child.stderr!);
  return { child, out };
}

async function waitTcp(port: number, timeoutMs: number): Promise<boolean> {
  const net = await import('node:net');
  return waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    timeoutMs,
  );
}

export class RedisProc {
  private proc: Proc | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisProc> {
    const port = await allocatePort({ udp: false });
    const redis = new RedisProc(port, makeTempDir('redis'));
    await redis.run();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port; no persistence. */
  async run(): Promise<void> {
    this.proc = run(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      false,
    );
    if (!(await waitTcp(this.port, 10000))) {
      throw new Error(`redis did not start:\n${this.proc.out.text()}`);
    }
  }

  /** Keys matching `pattern` (redis-cli --scan). */
  keys(pattern: string): string[] {
    const out = execFileSync(
      'redis-cli',
      ['-p', String(this.port), '--scan', '--pattern', pattern],
      { encoding: 'utf8', timeout: 5000 },
    );
    return out.split('\n').filter((l) => l !== '');
  }

  async stop(): Promise<void> {
    if (this.proc !== undefined) {
      await stopChild(this.proc.child, { graceMs: 3000 });
      await waitForClose(this.proc.child);
      this.proc = undefined;
    }
  }

  async close(): Promise<void> {
    await this.stop();
    removeTempDir(this.dir);
  }
}

export class KamailioProc {
  private constructor(
    readonly port: number,
    private readonly proc: Proc,
    private readonly dir: string,
  ) {}

  /** Kamailio in front of the instances at `instancePorts` (127.0.0.1, UDP). */
  static async start(instancePorts: readonly number[]): Promise<KamailioProc> {
    const dir = makeTempDir('kamailio');
    const list = path.join(dir, 'dispatcher.list');
    writeFileSync(list, instancePorts.map((p) => `1 sip:127.0.0.1:${p} 0 0\n`).join(''));
    const port = await allocatePort();
    const proc = run(
      '/usr/sbin/kamailio',
      [
        '-f',
        KAMAILIO_CFG,
        '-A',
        `LISTEN=udp:127.0.0.1:${port}`,
        '-A',
        `DS_LIST="${list}"`,
        '-DD',
        '-E',
        '-m',
        '64',
        '-M',
        '8',
        '-Y',
        dir,
        '-P',
        path.join(dir, 'kamailio.pid'),
      ],
      true,
    );
    const kam = new KamailioProc(port, proc, dir);
    try {
      await waitForUdpBound(port, 10000);
    } catch (err) {
      const text = proc.out.text();
      await kam.stop();
      throw new Error(`kamailio did not start (${String(err)}):\n${text}`);
    }
    return kam;
  }

  log(): string {
    return this.proc.out.text();
  }

  /**
   * Which instance Kamailio sent `user`'s first REGISTER to (its id in `specs`), from the
   * line its request route logs. A phone reports its registration through a pipe of its
   * own, so that report can reach this process before Kamailio's line does: this waits
   * for the line (at most `timeoutMs`) and is undefined only if it never came.
   */
  async pinnedInstance(
    user: string,
    specs: readonly InstanceSpec[],
    timeoutMs = 5000,
  ): Promise<string | undefined> {
    const line = new RegExp(`REGISTER from ${user} to instance sip:127\\.0\\.0\\.1:(\\d+)`);
    const port = (): string | undefined => line.exec(this.log())?.[1];
    await waitFor(async () => port() !== undefined, timeoutMs);
    const found = port();
    return specs.find((s) => String(s.sipPort) === found)?.id;
  }

  async stop(): Promise<void> {
    await stopChild(this.proc.child, { graceMs: 5000, group: true });
    await waitForClose(this.proc.child);
    removeTempDir(this.dir);
  }
}

export interface InstanceSpec {
  readonly id: string;
  readonly sipPort: number;
  readonly rtp: { min: number; max: number };
}

/** Starts (or restarts) one callwatch instance sharing `redisUrl`. */
export function startInstance(
  spec: InstanceSpec,
  redisUrl: string,
  extensions: readonly ExtensionSpec[],
  /** More configuration (monitoring groups, API tokens), the same on every instance. */
  overrides: ConfigObject = {},
): Promise<ServerHandle> {
  return startServer(
    {
      ...overrides,
      ...PEER_AUTH,
      sip: { listen: { address: '127.0.0.1', udpPort: spec.sipPort, tcpPort: spec.sipPort } },
      media: { portRange: spec.rtp, workers: 1 },
      cluster: { instanceId: spec.id, redis: { url: redisUrl } },
    },
    // Starting takes 2 s on a quiet machine and was seen over 15 s (the helper's default)
    // with a load average of 17 on 2 cores: the test measures no start-up time.
    { extensions, startTimeoutMs: 45000 },
  );
}

export async function instanceSpec(id: string): Promise<InstanceSpec> {
  const sipPort = await allocatePort();
  let min = await allocatePortBlock(40);
  if (min % 2 === 1) min += 1;
  return { id, sipPort, rtp: { min, max: min + 37 } };
}

/** GET /v1/cluster/calls on an instance. */
export async function sharedCalls(server: ServerHandle): Promise<IndexedCall[]> {
  const r = await server.httpGet('/v1/cluster/calls');
  if (r.status !== 200) throw new Error(`/v1/cluster/calls: ${r.status} ${r.body}`);
  return (r.json as { calls: IndexedCall[] }).calls;
}

/** OPTIONS an instance answered (Kamailio's probes, nothing else sends them in these tests). */
export async function optionsAnswered(server: ServerHandle): Promise<number> {
  return (await server.metrics())
    .filter(
      (s) =>
        s.name === 'callwatch_sip_responses_total' &&
        s.labels.direction === 'out' &&
        s.labels.method === 'OPTIONS',
    )
    .reduce((a, s) => a + s.value, 0);
}

/**
 * Resolves once Kamailio has surely marked the instance up: two probes answered (the
 * second is sent a probe interval after the first answer was received).
 */
export async function probedIn(server: ServerHandle, timeoutMs = 20000): Promise<boolean> {
  return waitFor(async () => (await optionsAnswered(server)) >= 2, timeoutMs);
}
