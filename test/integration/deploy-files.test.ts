/**
 * The deploy stack proven without a Docker engine: docker-compose validates the compose
 * file, promtool checks the Prometheus config and rules and runs the alerts' unit tests,
 * and the Grafana provisioning and dashboard are checked for the shape Grafana loads as
 * is (a fixed datasource uid, no import-time `${DS_…}` inputs). That every dashboard
 * query returns data from a real server is prometheus-scrape.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ALERT_RULES,
  ALERT_TESTS,
  COMPOSE_FILE,
  DASHBOARD,
  DEPLOY_DIR,
  PROMETHEUS_CONFIG,
  alertRules,
  allPanels,
  dashboardQueries,
  loadDashboard,
  readYaml,
} from '../helpers/deployFiles.js';
import { REPO_ROOT } from '../helpers/server.js';

/** Runs a tool to its end (bounded); its output is in the failure message. */
function run(command: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60000 });
  if (r.error) throw new Error(`${command}: ${r.error.message} (scripts/install-test-peers.sh)`);
  return { status: r.status, output: `${command} ${args.join(' ')}\n${r.stdout}${r.stderr}` };
}

function expectSuccess(command: string, args: string[]): string {
  const r = run(command, args);
  expect({ status: r.status, output: r.output }).toEqual({ status: 0, output: r.output });
  return r.output;
}

type ComposeService = {
  image?: string;
  profiles?: string[];
  build?: unknown;
  network_mode?: string;
  volumes?: string[];
  command?: string[];
};
const compose = () => readYaml(COMPOSE_FILE) as { services: Record<string, ComposeService> };

const DATASOURCE = readYaml(
  path.join(DEPLOY_DIR, 'grafana/provisioning/datasources/prometheus.yml'),
) as { datasources: { uid: string; type: string; url: string; name: string }[] };

describe('docker-compose.yml', () => {
  it('is valid for docker-compose (config -q)', () => {
    expectSuccess('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q']);
  });

  it('runs callwatch, prometheus and grafana on the host network', () => {
    const services = compose().services;
    // Without a profile (docker compose up); the profile "cluster" is
    // cluster/cluster-compose-files.test.ts.
    const always = Object.entries(services).filter(([, s]) => s.profiles === undefined);
    expect(always.map(([n]) => n).sort()).toEqual(['callwatch', 'grafana', 'prometheus']);
    for (const [name, s] of Object.entries(services)) {
      expect({ name, network: s.network_mode }).toEqual({ name, network: 'host' });
    }
    expect(services.callwatch!.build).toBeDefined();
  });

  it('mounts the Prometheus and Grafana files where their configs expect them', () => {
    const { prometheus, grafana } = compose().services;
    const mounts = (s: ComposeService) =>
      Object.fromEntries(
        (s.volumes ?? []).map((v) => {
          const [src, dst] = v.split(':');
          return [dst!, src!];
        }),
      );
    const prom = mounts(prometheus!);
    expect(prom['/etc/prometheus/prometheus.yml']).toBe('./deploy/prometheus/prometheus.yml');
    // rule_files are relative to the config file: alerts.yml must sit beside it.
    const promConfig = readYaml(PROMETHEUS_CONFIG) as { rule_files: string[] };
    for (const f of promConfig.rule_files) {
      expect(prom[path.posix.join('/etc/prometheus', f)]).toBe(
        `./deploy/prometheus/${path.basename(f)}`,
      );
    }
    const graf = mounts(grafana!);
    expect(graf['/etc/grafana/provisioning']).toBe('./deploy/grafana/provisioning');
    const providers = readYaml(
      path.join(DEPLOY_DIR, 'grafana/provisioning/dashboards/callwatch.yml'),
    ) as { providers: { options: { path: string } }[] };
    expect(graf[providers.providers[0]!.options.path]).toBe('./deploy/grafana/dashboards');
    // Grafana reaches Prometheus where compose makes it listen.
    const listen = prometheus!.command!.find((a) => a.startsWith('--web.listen-address='));
    expect(DATASOURCE.datasources[0]!.url).toBe(
      `http://${listen!.slice('--web.listen-address='.length)}`,
    );
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const stages = text.split(/^FROM /m).slice(1);

  it('builds on node:20-slim in two stages, the runtime with production deps only', () => {
    expect(stages).toHaveLength(2);
    for (const s of stages) expect(s.startsWith('node:20-slim')).toBe(true);
    expect(stages[0]).toMatch(/RUN npm ci\b/);
    expect(stages[0]).toMatch(/RUN npm run build/);
    expect(stages[1]).toMatch(/RUN npm ci --omit=dev/);
    expect(stages[1]).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(stages[1]).toMatch(/COPY config \.\/config/);
  });

  it('runs as a non-root user, on the built CLI', () => {
    expect(stages[1]).toMatch(/^USER (?!root\b|0\b)\S+/m);
    expect(stages[1]).toMatch(/ENTRYPOINT \["node", "dist\/src\/cli\.js"\]/);
  });
});

describe('Prometheus files', () => {
  it('the config is valid (promtool check config) and scrapes callwatch on 8080', () => {
    expectSuccess('promtool', ['check', 'config', PROMETHEUS_CONFIG]);
    const config = readYaml(PROMETHEUS_CONFIG) as {
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        static_configs: { targets: string[] }[];
      }[];
    };
    const job = config.scrape_configs.find((j) => j.job_name === 'callwatch');
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    const defaults = readYaml(path.join(REPO_ROOT, 'config/default.yaml')) as {
      http: { port: number };
    };
    expect(job?.static_configs[0]?.targets).toEqual([`127.0.0.1:${defaults.http.port}`]);
  });

  it('the alert rules are valid (promtool check rules)', () => {
    expectSuccess('promtool', ['check', 'rules', ALERT_RULES]);
  });

  it('every alert has for:, a severity and a summary and description', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'CallwatchDigestAuthFailureBurst',
      'CallwatchDown',
      'CallwatchMediaWorkerLoopLag',
      'CallwatchMixerTicksSkipped',
      'CallwatchRecordingErrors',
      'CallwatchRtpLoss',
    ]);
    for (const r of rules) {
      expect({ alert: r.alert, for: typeof r.for }).toEqual({ alert: r.alert, for: 'string' });
      expect(['critical', 'warning', 'info']).toContain(r.labels?.severity);
      expect(r.annotations?.summary).toBeTruthy();
      expect(r.annotations?.description).toBeTruthy();
    }
  });

  it('the alerts pass their unit tests (promtool test rules), each shown firing', () => {
    expectSuccess('promtool', ['test', 'rules', ALERT_TESTS]);
    const tests = readYaml(ALERT_TESTS) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const r of alertRules()) {
      const mine = cases.filter((c) => c.alertname === r.alert);
      expect({ alert: r.alert, firing: mine.some((c) => c.exp_alerts.length > 0) }).toEqual({
        alert: r.alert,
        firing: true,
      });
      expect({ alert: r.alert, silent: mine.some((c) => c.exp_alerts.length === 0) }).toEqual({
        alert: r.alert,
        silent: true,
      });
    }
  });

  it('promtool test rules fails when an alert does not behave as its test says', () => {
    // A guard that the test above can fail: the same tests against a rule file whose
    // thresholds are out of reach must report failures.
    const r = run('promtool', [
      'test',
      'rules',
      path.join(REPO_ROOT, 'test/fixtures/deploy/alerts-broken.test.yml'),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/FAILED/);
  });
});

describe('Grafana provisioning', () => {
  const dashboard = loadDashboard();
  const ds = DATASOURCE.datasources[0]!;

  it('provisions one Prometheus datasource with a fixed uid', () => {
    expect(DATASOURCE.datasources).toHaveLength(1);
    expect(ds.type).toBe('prometheus');
    expect(ds.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
  });

  it('has the dashboard provider and the dashboard file it loads', () => {
    expect(readdirSync(path.join(DEPLOY_DIR, 'grafana/dashboards'))).toContain(
      path.basename(DASHBOARD),
    );
  });

  it('the dashboard loads as is: no import inputs, every query on the provisioned uid', () => {
    const text = readFileSync(DASHBOARD, 'utf8');
    expect(text).not.toMatch(/\$\{DS_/);
    expect(text).not.toMatch(/"__inputs"/);
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(typeof dashboard.schemaVersion).toBe('number');
    for (const v of dashboard.templating.list) {
      if (v.type === 'query') expect(v.datasource?.uid).toBe(ds.uid);
    }
    for (const p of allPanels(dashboard)) {
      if (p.type === 'row') continue;
      expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid: ds.uid });
      expect({ panel: p.title, targets: (p.targets ?? []).length > 0 }).toEqual({
        panel: p.title,
        targets: true,
      });
      for (const t of p.targets ?? []) {
        expect({ panel: p.title, uid: t.datasource?.uid ?? ds.uid }).toEqual({
          panel: p.title,
          uid: ds.uid,
        });
        expect(t.expr.trim()).not.toBe('');
      }
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  it('the panels have unique ids and fit the 24-column grid without overlapping', () => {
    const panels = allPanels(dashboard);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const g = p.gridPos;
      expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0).toBe(true);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const cell = `${x},${y}`;
          expect({ panel: p.title, overlaps: cells.has(cell) }).toEqual({
            panel: p.title,
            overlaps: false,
          });
          cells.add(cell);
        }
      }
    }
  });

  it('shows what a call-center admin opens it for', () => {
    const exprs = dashboardQueries(dashboard)
      .map((q) => q.expr)
      .join('\n');
    for (const metric of [
      'callwatch_calls_active',
      'callwatch_call_attempts_total',
      'callwatch_call_outcomes_total',
      'callwatch_monitor_sessions_active',
      'callwatch_registrations_active',
      'callwatch_sip_requests_total',
      'callwatch_sip_responses_total',
      'callwatch_sip_auth_failures_total',
      'callwatch_rtp_packets_total',
      'callwatch_rtp_dropped_total',
      'callwatch_rtp_packets_lost_total',
      'callwatch_rtp_media_packets_received_total',
      'callwatch_rtp_jitter_seconds_bucket',
      'callwatch_media_worker_loop_lag_seconds',
      'callwatch_media_worker_utilization',
      'callwatch_mixer_tick_lateness_seconds_bucket',
      'callwatch_mixer_ticks_skipped_total',
      'callwatch_recordings_active',
      'callwatch_recording_bytes_total',
      'callwatch_recording_errors_total',
      'callwatch_process_cpu_seconds_total',
      'callwatch_process_resident_memory_bytes',
      'callwatch_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect({ metric, shown: exprs.includes(metric) }).toEqual({ metric, shown: true });
    }
  });
});
