import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { register } from 'prom-client';
import { ALLOWED_METHODS } from '../../../../src/sipRequestRouter.js';
import { warmSipPaths, type SipWarmupOptions } from '../../../../src/warmup/sipWarmup.js';

/** A budget clock that moves 1 ms per reading: the budget ends after a known work count. */
function steppingNow(): () => number {
  let t = 0;
  return () => t++;
}

const options = (over: Partial<SipWarmupOptions> = {}): SipWarmupOptions => ({
  budgetMs: 200,
  realm: 'callwatch',
  algorithms: ['MD5', 'SHA-256'],
  registrar: {
    minExpires: 60,
    maxExpires: 3600,
    defaultExpires: 3600,
    maxContactsPerExtension: 10,
  },
  timers: { t1: 500, t2: 4000, t4: 5000 },
  requestChecks: {
    allowedMethods: ALLOWED_METHODS,
    forwardedMethods: ['INVITE'],
    supportedExtensions: [],
    uriSchemes: ['sip', 'sips'],
  },
  codecs: ['PCMU', 'PCMA', 'G722', 'opus'],
  domain: '127.0.0.1',
  now: steppingNow(),
  ...over,
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('warmSipPaths', () => {
  it('plays REGISTER and call exchanges and leaves no binding, transaction or timer', () => {
    const report = warmSipPaths(options({ budgetMs: 10_000, maxRounds: 64 }));
    expect(report.rounds).toBe(64);
    // Per round: REGISTER ×3 (challenge, authorized, retransmission), every 4th an
    // un-REGISTER, every 4th a call (INVITE, ACK, INVITE, ACK, BYE).
    expect(report.requests).toBe(64 * 3 + 16 + 16 * 5);
    expect(report.leftover).toEqual({ bindings: 0, transactions: 0, timers: 0 });
  });

  it('arms no real timer, opens no handle, registers no metric and writes nothing', () => {
    jest.useFakeTimers();
    const resources = process.getActiveResourcesInfo().sort();
    const metrics = register.getMetricsAsArray().length;
    const writes = jest.spyOn(process.stdout, 'write');
    const errors = jest.spyOn(process.stderr, 'write');
    const logs = jest.spyOn(console, 'log');
    const warns = jest.spyOn(console, 'warn');

    const report = warmSipPaths(options({ budgetMs: 10_000, maxRounds: 200 }));

    expect(report.rounds).toBe(200);
    expect(jest.getTimerCount()).toBe(0);
    expect(process.getActiveResourcesInfo().sort()).toEqual(resources);
    expect(register.getMetricsAsArray().length).toBe(metrics);
    for (const spy of [writes, errors, logs, warns]) expect(spy).not.toHaveBeenCalled();
  });

  it('stops when the budget is spent, whatever the round count', () => {
    const report = warmSipPaths(options({ budgetMs: 20 }));
    // The stepping clock is read once before the loop, once per round check and once
    // at the end: 20 ms of budget is 20 rounds at most.
    expect(report.rounds).toBeGreaterThan(0);
    expect(report.rounds).toBeLessThanOrEqual(20);
    expect(report.elapsedMs).toBeLessThanOrEqual(22);
  });

  it('does nothing with a budget of 0', () => {
    const report = warmSipPaths(options({ budgetMs: 0 }));
    expect(report).toMatchObject({ rounds: 0, requests: 0 });
  });

  it('warms within a real time budget and keeps to it', () => {
    const { now: _unused, ...real } = options({ budgetMs: 100 });
    const started = performance.now();
    const report = warmSipPaths(real);
    const took = performance.now() - started;
    expect(report.rounds).toBeGreaterThan(0);
    // One round is well under a millisecond once compiled; the first one compiles.
    expect(took).toBeLessThan(100 + 250);
    expect(report.leftover).toEqual({ bindings: 0, transactions: 0, timers: 0 });
  });
});
