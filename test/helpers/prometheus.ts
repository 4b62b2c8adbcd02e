/**
 * A real Prometheus (Debian's `prometheus`) for a test: the project's own
 * deploy/prometheus/prometheus.yml, rewritten to scrape the test server every second,
 * with its alert rules loaded, a temp TSDB, and a web port of its own on 127.0.0.1
 * (never 9090, where a packaged Prometheus service may be listening).
 *
 *   const prom = await startPrometheus(server.httpPort);
 *   const r = await prom.query('up');     // the /api/v1/query answer
 *   await prom.stop();
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PROMETHEUS_CONFIG, readYaml } from './deployFiles.js';
import { allocatePort } from './ports.js';
import { LineCapture, makeTempDir, removeTempDir, stopChild, trackChild } from './processes.js';
import { HOST, httpGet } from './server.js';

export interface QueryAnswer {
  readonly status: string;
  readonly errorType?: string;
  readonly error?: string;
  readonly data?: {
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
}

export interface PrometheusHandle {
  readonly port: number;
  /** An instant query (GET /api/v1/query), the answer as Prometheus gave it. */
  query(expr: string): Promise<QueryAnswer>;
  /** The alerting rules Prometheus loaded, with their evaluation health (/api/v1/rules). */
  rules(): Promise<{ name: string; health: string; lastError?: string }[]>;
  output(): string;
  /** SIGTERM, up to 5 s, then SIGKILL; removes the TSDB. Idempotent. */
  stop(): Promise<void>;
}

type ScrapeConfig = { job_name: string; static_configs: { targets: string[] }[] } & Record<
  string,
  unknown
>;

/** deploy/prometheus/prometheus.yml aimed at `targetPort`, scraping every second. */
export function testPrometheusConfig(targetPort: number): string {
  const config = readYaml(PROMETHEUS_CONFIG) as {
    global?: Record<string, unknown>;
    rule_files?: string[];
    scrape_configs: ScrapeConfig[];
  };
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  config.rule_files = (config.rule_files ?? []).map((f) =>
    path.resolve(path.dirname(PROMETHEUS_CONFIG), f),
  );
  const job = config.scrape_configs.find((j) => j.job_name === 'callwatch');
  if (!job) throw new Error(`${PROMETHEUS_CONFIG}: no callwatch scrape job`);
  job.static_configs = [{ targets: [`${HOST}:${targetPort}`] }];
  return YAML.stringify(config);
}

export async function startPrometheus(targetPort: number): Promise<PrometheusHandle> {
  const dir = makeTempDir('prometheus');
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, testPrometheusConfig(targetPort));
  const port = await allocatePort({ udp: false });
  const child = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=${HOST}:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackChild(child);
  const out = new LineCapture(2000);
  out.attach(child.stdout);
  out.attach(child.stderr);
  const spawned = new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', (e) => resolve(e));
  });
  const spawnError = await spawned;
  if (spawnError) {
    removeTempDir(dir);
    throw new Error(`prometheus: ${spawnError.message} (scripts/install-test-peers.sh)`);
  }
  let stopped: Promise<void> | undefined;
  const handle: PrometheusHandle = {
    port,
    async query(expr) {
      const r = await httpGet(port, `/api/v1/query?query=${encodeURIComponent(expr)}`);
      return r.json as QueryAnswer;
    },
    async rules() {
      const r = await httpGet(port, '/api/v1/rules?type=alert');
      const body = r.json as {
        data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      };
      return body.data.groups.flatMap((g) => g.rules);
    },
    output: () => out.text(),
    stop() {
      stopped ??= (async () => {
        await stopChild(child, { graceMs: 5000 });
        removeTempDir(dir);
      })();
      return stopped;
    },
  };
  // Ready when /-/ready answers 200 (the TSDB is open and the rules loaded); bounded.
  const end = Date.now() + 20000;
  for (;;) {
    const ready = await httpGet(port, '/-/ready', { timeoutMs: 1000 }).catch(() => undefined);
    if (ready?.status === 200) return handle;
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (exited || Date.now() > end) {
      await handle.stop();
      throw new Error(`prometheus did not become ready on ${port}:\n${out.tail(40)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
