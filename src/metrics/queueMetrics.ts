/**
 * Queue metrics (docs/architecture.md §9.5): callers waiting and the longest wait now, read
 * in collect(), and callers leaving the line by outcome (answered by a member, abandoned,
 * overflowed), from the queue service's events. Labelled by queue number, never by call.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueueService } from '../queues/queueService.js';

export function registerQueueMetrics(registry: Registry, queues: QueueService): void {
  const registers = [registry];
  new Gauge({
    name: 'callwatch_queue_waiting',
    help: 'Callers waiting in the queue now',
    labelNames: ['queue'] as const,
    registers,
    collect() {
      this.reset();
      for (const q of queues.views()) this.set({ queue: q.number }, q.waiting.length);
    },
  });
  new Gauge({
    name: 'callwatch_queue_longest_wait_seconds',
    help: 'How long the caller waiting the longest has waited (0: nobody waits)',
    labelNames: ['queue'] as const,
    registers,
    collect() {
      this.reset();
      for (const q of queues.views()) {
        const longest = Math.max(0, ...q.waiting.map((w) => w.waitingMs));
        this.set({ queue: q.number }, longest / 1000);
      }
    },
  });
  const left = new Counter({
    name: 'callwatch_queue_calls_total',
    help: 'Callers who left the queue: answered (by a member), abandoned (hung up), overflow',
    labelNames: ['queue', 'outcome'] as const,
    registers,
  });
  for (const number of queues.numbers) {
    for (const outcome of ['answered', 'abandoned', 'overflow'])
      left.inc({ queue: number, outcome }, 0);
  }
  queues.on('left', (queue, outcome) => left.inc({ queue, outcome }));
}
