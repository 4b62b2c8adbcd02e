/**
 * The queue machine (src/queues/queueCore.ts) run by its adapter (queueRunner.ts) on a
 * fake clock, the port recording what the call flow would do: strategies, ring timeouts
 * moving on, wrap-up, pause, availability, maximum wait, abandoned callers, late answers.
 */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { parseConfig } from '../../../../src/config/load.js';
import type { QueueConfig } from '../../../../src/config/schema.js';
import { nextDeadline } from '../../../../src/queues/queueCore.js';
import { QueueRunner, RETRY_MS, type QueuePort } from '../../../../src/queues/queueRunner.js';
import { FakeClock } from '../../sip/transaction/fakeClock.js';

const RING = 10_000;

function queueConfig(overrides: Record<string, unknown>): QueueConfig {
  const config = parseConfig({
    extensions: ['1001', '1002', '1003'].map((number) => ({ number, password: 'secret' })),
    queues: [
      {
        number: '600',
        name: 'Support',
        members: ['1001', '1002', '1003'],
        ringTimeSec: RING / 1000,
        maxWaitSec: 120,
        ...overrides,
      },
    ],
  });
  return config.queues[0] as QueueConfig;
}

/** Records the port's calls as short strings: "ring c1 1001". */
class Recorder implements QueuePort {
  readonly log: string[] = [];
  ring(c: string, m: string): void {
    this.log.push(`ring ${c} ${m}`);
  }
  cancelRing(c: string, m: string): void {
    this.log.push(`cancel ${c} ${m}`);
  }
  connect(c: string, m: string, waitedMs: number): void {
    this.log.push(`connect ${c} ${m} ${waitedMs}`);
  }
  refuseAnswer(c: string, m: string): void {
    this.log.push(`refuse ${c} ${m}`);
  }
  overflow(c: string, waitedMs: number): void {
    this.log.push(`overflow ${c} ${waitedMs}`);
  }
  abandoned(c: string, waitedMs: number): void {
    this.log.push(`abandoned ${c} ${waitedMs}`);
  }
  take(): string[] {
    return this.log.splice(0);
  }
}

function setup(overrides: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const port = new Recorder();
  const runner = new QueueRunner(queueConfig(overrides), clock, port, pino({ level: 'silent' }));
  return { clock, port, runner };
}

describe('queue machine: ringall', () => {
  it('rings every free member at once; the first answer wins, the others are cancelled', () => {
    const { clock, port, runner } = setup({ strategy: 'ringall' });
    runner.join('c1');
    expect(port.take()).toEqual(['ring c1 1001', 'ring c1 1002', 'ring c1 1003']);
    clock.advance(3000);
    runner.answered('c1', '1002');
    expect(port.take()).toEqual(['cancel c1 1001', 'cancel c1 1003', 'connect c1 1002 3000']);
    // The cancelled phone's 200 crossing our CANCEL comes too late.
    runner.answered('c1', '1001');
    expect(port.take()).toEqual(['refuse c1 1001']);
    expect(runner.view().members.map((m) => [m.extension, m.state])).toEqual([
      ['1001', 'idle'],
      ['1002', 'in-call'],
      ['1003', 'idle'],
    ]);
  });

  it('serves the head of the line first; the next caller gets the members set free', () => {
    const { port, runner } = setup({ strategy: 'ringall' });
    runner.join('c1');
    runner.join('c2');
    expect(port.take()).toEqual(['ring c1 1001', 'ring c1 1002', 'ring c1 1003']);
    expect(runner.view().waiting.map((w) => [w.callId, w.position])).toEqual([
      ['c1', 1],
      ['c2', 2],
    ]);
    runner.answered('c1', '1003');
    expect(port.take()).toEqual([
      'cancel c1 1001',
      'cancel c1 1002',
      'connect c1 1003 0',
      'ring c2 1001',
      'ring c2 1002',
    ]);
  });

  it('after a round without an answer, rings again after the retry pause', () => {
    const { clock, port, runner } = setup({ strategy: 'ringall' });
    runner.join('c1');
    port.take();
    runner.ringFailed('c1', '1001'); // busy: not rung again this round
    expect(port.take()).toEqual([]);
    clock.advance(RING);
    expect(port.take()).toEqual(['cancel c1 1002', 'cancel c1 1003']);
    clock.advance(RETRY_MS - 1);
    expect(port.take()).toEqual([]);
    clock.advance(1);
    expect(port.take()).toEqual(['ring c1 1001', 'ring c1 1002', 'ring c1 1003']);
  });
});

describe('queue machine: one member at a time', () => {
  it('roundrobin goes round the members over a series of callers', () => {
    const { clock, port, runner } = setup({ strategy: 'roundrobin' });
    const answeredBy: string[] = [];
    for (const call of ['c1', 'c2', 'c3', 'c4']) {
      runner.join(call);
      const ring = port.take().find((l) => l.startsWith('ring')) as string;
      const member = ring.split(' ')[2] as string;
      runner.answered(call, member);
      answeredBy.push(member);
      clock.advance(1000);
      runner.callEnded(member);
      port.take();
    }
    expect(answeredBy).toEqual(['1001', '1002', '1003', '1001']);
  });

  it('a ring that times out moves to the next member; a full round waits, then starts again', () => {
    const { clock, port, runner } = setup({ strategy: 'roundrobin' });
    runner.join('c1');
    expect(port.take()).toEqual(['ring c1 1001']);
    clock.advance(RING);
    expect(port.take()).toEqual(['cancel c1 1001', 'ring c1 1002']);
    runner.ringFailed('c1', '1002');
    expect(port.take()).toEqual(['ring c1 1003']);
    clock.advance(RING);
    expect(port.take()).toEqual(['cancel c1 1003']);
    clock.advance(RETRY_MS);
    expect(port.take()).toEqual(['ring c1 1001']);
  });

  it('longest-idle rings the member idle the longest, counting wrap-up as busy', () => {
    const { clock, port, runner } = setup({ strategy: 'longest-idle', wrapUpSec: 5 });
    // All idle since the start: configured order breaks the tie.
    runner.join('c1');
    expect(port.take()).toEqual(['ring c1 1001']);
    runner.answered('c1', '1001');
    port.take();
    clock.advance(1000);
    runner.join('c2');
    expect(port.take()).toEqual(['ring c2 1002']);
    runner.answered('c2', '1002');
    port.take();
    clock.advance(1000);
    runner.callEnded('1002'); // idle from 2000 + 5000 (wrap-up) = 7000
    clock.advance(1000);
    runner.callEnded('1001'); // idle from 3000 + 5000 = 8000
    expect(runner.view().members.map((m) => m.state)).toEqual(['wrap-up', 'wrap-up', 'idle']);
    runner.join('c3');
    expect(port.take()).toEqual(['ring c3 1003']); // the only free one
    runner.answered('c3', '1003');
    port.take();
    runner.join('c4');
    expect(port.take()).toEqual([]); // 1001 and 1002 in wrap-up, 1003 in a call
    clock.advanceTo(7000);
    expect(port.take()).toEqual(['ring c4 1002']);
    clock.advance(RING);
    // 1001 (idle since 8000) is next.
    expect(port.take()).toEqual(['cancel c4 1002', 'ring c4 1001']);
  });

  it('skips a paused member and rings it again once unpaused', () => {
    const { port, runner } = setup({ strategy: 'roundrobin' });
    expect(runner.pause('1001', true)).toBe(true);
    expect(runner.pause('1005', true)).toBe(false);
    runner.join('c1');
    expect(port.take()).toEqual(['ring c1 1002']);
    runner.answered('c1', '1002');
    port.take();
    runner.join('c2');
    expect(port.take()).toEqual(['ring c2 1003']);
    runner.answered('c2', '1003');
    port.take();
    runner.join('c3'); // nobody free: waits
    expect(port.take()).toEqual([]);
    runner.pause('1001', false);
    expect(port.take()).toEqual(['ring c3 1001']);
    expect(runner.isPaused('1001')).toBe(false);
  });

  it('skips an unavailable member (not registered, or busy in another call)', () => {
    const { port, runner } = setup({ strategy: 'ringall' });
    runner.availability('1002', false);
    runner.join('c1');
    expect(port.take()).toEqual(['ring c1 1001', 'ring c1 1003']);
  });
});

describe('queue machine: leaving the line', () => {
  it('overflows a caller after the maximum wait, cancelling its rings', () => {
    const { clock, port, runner } = setup({ strategy: 'ringall', maxWaitSec: 5 });
    runner.join('c1');
    port.take();
    clock.advance(4999);
    expect(port.take()).toEqual([]);
    clock.advance(1);
    expect(port.take()).toEqual([
      'cancel c1 1001',
      'cancel c1 1002',
      'cancel c1 1003',
      'overflow c1 5000',
    ]);
    expect(runner.isWaiting('c1')).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('an abandoned caller cancels its rings and frees the members for the next', () => {
    const { clock, port, runner } = setup({ strategy: 'roundrobin' });
    runner.pause('1002', true);
    runner.pause('1003', true);
    runner.join('c1');
    runner.join('c2');
    expect(port.take()).toEqual(['ring c1 1001']);
    clock.advance(2500);
    runner.leave('c1');
    expect(port.take()).toEqual(['cancel c1 1001', 'abandoned c1 2500', 'ring c2 1001']);
  });

  it('has no timer armed when nobody waits and nobody rests', () => {
    const { clock, runner } = setup({ strategy: 'ringall', wrapUpSec: 3 });
    runner.join('c1');
    runner.answered('c1', '1001');
    runner.callEnded('1001');
    expect(nextDeadline(runner.state)).toBe(3000);
    clock.advance(3000);
    expect(clock.pending).toBe(0);
    runner.close();
    runner.join('c2');
    expect(runner.isWaiting('c2')).toBe(false);
  });
});
