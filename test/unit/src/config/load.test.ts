import { describe, it, expect } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, parseConfig } from '../../../../src/config/load.js';

const defaultYaml = fileURLToPath(new URL('../../../../config/default.yaml', import.meta.url));

function problemsOf(document: unknown): string[] {
  try {
    parseConfig(document);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('loads the documented default config with the demo extensions', async () => {
    const config = await loadConfig(defaultYaml);
    expect(config.sip.listen).toEqual({ address: '127.0.0.1', udpPort: 5060, tcpPort: 5060 });
    expect(config.extensions.map((e) => [e.number, e.role])).toEqual([
      ['1001', 'agent'],
      ['1002', 'agent'],
      ['1003', 'agent'],
      ['1005', 'supervisor'],
    ]);
  });

  it('fills every default for an empty document', () => {
    const config = parseConfig({});
    expect(config.sip.timers).toEqual({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
    expect(config.registrar.minExpires).toBe(60);
    expect(config.auth.lockout.maxFailures).toBe(10);
  });

  it('announcements: none by default; a path or null, each key named', () => {
    expect(parseConfig({}).announcements).toEqual({ callerOnAnswer: null, agentOnMonitor: null });
    expect(problemsOf({ announcements: { callerOnAnswer: '', agentOnMonitor: 3 } })).toEqual([
      expect.stringMatching(/^announcements\.callerOnAnswer: /),
      expect.stringMatching(/^announcements\.agentOnMonitor: /),
    ]);
    expect(problemsOf({ announcements: { onHold: 'x.wav' } })).toEqual([
      'announcements.onHold: unknown key',
    ]);
  });

  it('sip.warmup: 500 ms in the shipped config, on by default, 0 turns it off, bad values named', async () => {
    expect((await loadConfig(defaultYaml)).sip.warmup).toEqual({ budgetMs: 500 });
    expect(parseConfig({}).sip.warmup).toEqual({ budgetMs: 500 });
    expect(parseConfig({ sip: { warmup: { budgetMs: 0 } } }).sip.warmup.budgetMs).toBe(0);
    expect(problemsOf({ sip: { warmup: { budgetMs: -1 } } })).toEqual([
      'sip.warmup.budgetMs: 0 (off) or more milliseconds',
    ]);
    expect(problemsOf({ sip: { warmup: { budgetMs: 60_000 } } })).toEqual([
      'sip.warmup.budgetMs: at most 5000 ms (a warm-up that long only delays the start)',
    ]);
    expect(problemsOf({ sip: { warmup: { budgetMs: 2.5 } } })).toEqual([
      'sip.warmup.budgetMs: a whole number of milliseconds',
    ]);
    expect(problemsOf({ sip: { warmup: { budgetMs: 'fast' } } })).toEqual([
      'sip.warmup.budgetMs: a number of milliseconds (0 turns the warm-up off)',
    ]);
    expect(problemsOf({ sip: { warmup: { rounds: 10 } } })).toEqual([
      'sip.warmup.rounds: unknown key',
    ]);
  });

  it('names an unknown key', () => {
    expect(problemsOf({ sip: { lisen: {} } })).toEqual(['sip.lisen: unknown key']);
  });

  it('names a key with a value of the wrong type', () => {
    const problems = problemsOf({ sip: { listen: { udpPort: 'abc' } } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^sip\.listen\.udpPort: .*number/);
  });

  it('names the entry of a bad extension and duplicates', () => {
    const problems = problemsOf({
      extensions: [
        { number: '1001', password: 'secret' },
        { number: '1001', password: 'x', role: 'boss' },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^extensions\[1\]\.password: /),
        expect.stringMatching(/^extensions\[1\]\.role: /),
      ]),
    );
  });

  it('checks relations between keys', () => {
    expect(problemsOf({ sip: { timers: { t1Ms: 5000, t2Ms: 4000 } } })).toEqual([
      'sip.timers: t2Ms must be at least t1Ms',
    ]);
  });

  it('reports an unreadable file and invalid YAML clearly', async () => {
    await expect(loadConfig('/nonexistent/x.yaml')).rejects.toThrow(/cannot read config/);
  });
});
