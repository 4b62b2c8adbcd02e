/**
 * The dashboard and the alerts against a real Prometheus scraping the real server.
 *
 * A real Prometheus (deploy/prometheus/prometheus.yml aimed at the test server, 1 s
 * scrapes, alerts.yml loaded) watches while three baresip phones make what an admin's
 * day is made of: registrations, a wrong password, a call to a number that does not
 * exist, and a call the supervisor monitors (listen, then whisper) and that is recorded.
 * While that call runs, every query of every dashboard panel must be valid and return
 * data, and every alert expression must be valid.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dashboardQueries, loadDashboard, alertRules } from '../helpers/deployFiles.js';
import {
  dialAndAnswer,
  PhonePool,
  sleep,
  startMonitoringPhones,
  startPhoneServer,
  waitFor,
} from '../helpers/phoneScene.js';
import { startPrometheus, type PrometheusHandle, type QueryAnswer } from '../helpers/prometheus.js';
import { type ServerHandle } from '../helpers/server.js';
import { registerWithAuth, SipClient } from '../helpers/sipClient.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];
/** What Grafana's $__rate_interval is replaced by (several 1 s scrapes, a few reports). */
const RATE_INTERVAL = '30s';

let server: ServerHandle;
let prom: PrometheusHandle | undefined;
const phones = new PhonePool(() => server);

beforeAll(async () => {
  server = await startPhoneServer({}, EXTENSIONS);
  prom = await startPrometheus(server.httpPort);
}, 40000);

afterAll(async () => {
  await phones.killAll();
  await prom?.stop();
  await server?.stop();
}, 30000);

const byAlert = (a: { alert: string }, b: { alert: string }) => a.alert.localeCompare(b.alert);

const hasData = (a: QueryAnswer | undefined) =>
  a?.status === 'success' && (a.data?.result.length ?? 0) > 0;

describe('Prometheus scraping a server with a monitored call', () => {
  it('answers every dashboard query with data and every alert expression', async () => {
    const p = prom!;
    // Prometheus scrapes the server (its first scrape comes within a second or two).
    expect(
      await waitFor(async () => {
        const up = await p.query('up{job="callwatch"} == 1');
        return hasData(up);
      }, 20000),
    ).toBe(true);

    // A wrong password (a digest failure), then the phones.
    const client = await SipClient.udp();
    try {
      const { final } = await registerWithAuth(client, {
        user: '1001',
        password: 'wrong',
        port: server.sipPort,
        contacts: [`<sip:1001@127.0.0.1:${client.localPort}>`],
        expires: 60,
      });
      expect([401, 403]).toContain(final?.status);
    } finally {
      await client.close();
    }
    const { agent, customer, supervisor } = await startMonitoringPhones(phones);

    // A call to a number nobody has: an attempt with a 4xx outcome.
    expect((await customer.command('dial', `sip:1999@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await customer.waitForEvent('CALL_CLOSED', 10000);

    // The monitored, recorded call: listen, then whisper.
    await dialAndAnswer(server, customer, agent, '1001');
    expect((await supervisor.command('dial', `sip:*901001@127.0.0.1:${server.sipPort}`)).ok).toBe(
      true,
    );
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    await sleep(2000);
    expect((await supervisor.command('sndcode', '5')).ok).toBe(true);

    // Every dashboard query, variables substituted as Grafana does, until each has data
    // (the media workers report every 5 s, then Prometheus scrapes): bounded.
    const dashboard = loadDashboard();
    const queries = dashboardQueries(dashboard, RATE_INTERVAL);
    expect(queries.length).toBeGreaterThan(20);
    const answers = new Map<string, QueryAnswer>();
    const missing = () => queries.filter((q) => !hasData(answers.get(q.expr)));
    const deadline = Date.now() + 40000;
    while (missing().length > 0 && Date.now() < deadline) {
      for (const q of missing()) answers.set(q.expr, await p.query(q.expr));
      if (missing().length > 0) await sleep(1000);
    }
    const failed = queries
      .map((q) => ({ ...q, answer: answers.get(q.expr) }))
      .filter((q) => !hasData(q.answer))
      .map((q) => ({ panel: `${q.panel} ${q.refId}`, expr: q.expr, answer: q.answer }));
    expect(failed).toEqual([]);

    // Every alert expression is valid PromQL against the live data (most are silent).
    for (const rule of alertRules()) {
      const a = await p.query(rule.expr);
      expect({ alert: rule.alert, status: a.status, error: a.error }).toEqual({
        alert: rule.alert,
        status: 'success',
        error: undefined,
      });
    }
    // Prometheus itself loaded the rules and evaluates them without error.
    const loaded = await p.rules();
    expect(loaded.map((r) => ({ alert: r.name, health: r.health })).sort(byAlert)).toEqual(
      alertRules()
        .map((r) => ({ alert: r.alert, health: 'ok' }))
        .sort(byAlert),
    );

    await supervisor.command('hangup');
    await customer.command('hangup');
  }, 120000);
});
