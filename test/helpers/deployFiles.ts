/**
 * Reads the deploy files (deploy/, docker-compose.yml) for the tests that prove them
 * without a Docker engine: the Grafana dashboard's panels and query expressions, with
 * template variables substituted as Grafana would, and the Prometheus alert rules.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './server.js';

export const DEPLOY_DIR = path.join(REPO_ROOT, 'deploy');
export const PROMETHEUS_CONFIG = path.join(DEPLOY_DIR, 'prometheus/prometheus.yml');
export const ALERT_RULES = path.join(DEPLOY_DIR, 'prometheus/alerts.yml');
export const ALERT_TESTS = path.join(DEPLOY_DIR, 'prometheus/alerts.test.yml');
export const DASHBOARD = path.join(DEPLOY_DIR, 'grafana/dashboards/callwatch.json');
export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');

export interface DashboardTarget {
  readonly expr: string;
  readonly refId: string;
  readonly datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type?: string; uid?: string };
  readonly targets?: DashboardTarget[];
  readonly panels?: DashboardPanel[];
}

export interface TemplateVariable {
  readonly name: string;
  readonly type: string;
  readonly allValue?: string;
  readonly datasource?: { type?: string; uid?: string };
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: DashboardPanel[];
  readonly templating: { list: TemplateVariable[] };
}

export function readYaml(file: string): unknown {
  return YAML.parse(readFileSync(file, 'utf8'));
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
}

/** Every panel, those nested in collapsed rows too. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/**
 * `expr` with Grafana's variables replaced: `$__rate_interval` (and `$__interval`) by
 * `rateInterval`, and the dashboard's own variables by their "All" value.
 */
export function substitute(expr: string, dashboard: Dashboard, rateInterval = '30s'): string {
  let out = expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('${__rate_interval}', rateInterval)
    .replaceAll('$__interval', rateInterval);
  for (const v of dashboard.templating.list) {
    const value = v.allValue ?? '.*';
    out = out.replaceAll(`\${${v.name}}`, value).replaceAll(`$${v.name}`, value);
  }
  return out;
}

export interface PanelQuery {
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

/** Every query of every panel, variables substituted. */
export function dashboardQueries(dashboard: Dashboard, rateInterval = '30s'): PanelQuery[] {
  return allPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title,
      refId: t.refId,
      expr: substitute(t.expr, dashboard, rateInterval),
    })),
  );
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** The alerting rules of deploy/prometheus/alerts.yml, every group. */
export function alertRules(): AlertRule[] {
  const doc = readYaml(ALERT_RULES) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
}
