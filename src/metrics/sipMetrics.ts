/**
 * SIP metrics on a Registry owned by one server instance (never the global registry).
 * They subscribe to the layers' events and read live values in collect(), so the SIP
 * code itself carries no metric calls (docs/architecture.md §15.10).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { KNOWN_METHODS } from '../../sip/core/requestChecks.js';
import { cseqOf } from '../../sip/message/accessors.js';
import type { SipMessage, SipResponse } from '../../sip/message/message.js';
import type { TransportLayer } from '../../sip/transport/transportLayer.js';
import type { SipStack } from '../../sip/stack.js';
import type { LocationService } from '../registrar/locationService.js';

/** Methods come from the network: anything unknown shares one label value. */
function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

function responseMethod(message: SipMessage): string {
  try {
    return methodLabel(cseqOf(message).method);
  } catch {
    return 'other';
  }
}

/**
 * Increments of a labelled counter kept as plain numbers per label set until a scrape
 * (the counter's collect()): prom-client hashes and validates the label object on every
 * inc(), about 1 µs, and every SIP message in and out counted one.
 */
class PendingCounts<L extends string> {
  private readonly pending = new Map<string, { labels: Record<L, string>; n: number }>();

  add(key: string, labels: () => Record<L, string>): void {
    const entry = this.pending.get(key);
    if (entry !== undefined) entry.n++;
    else this.pending.set(key, { labels: labels(), n: 1 });
  }

  /** Hands what was counted since the last scrape to `counter`. */
  flush(counter: { inc(labels: Record<L, string>, value: number): void }): void {
    for (const entry of this.pending.values()) {
      if (entry.n > 0) counter.inc(entry.labels, entry.n);
      entry.n = 0;
    }
  }
}

export interface SipMetricsSources {
  transport: TransportLayer;
  location: LocationService;
  transactions: () => { client: number; server: number };
  /** Requests refused with 503 while overloaded (sip/core/overload.ts). */
  stack?: Pick<SipStack, 'on'>;
  overloaded?: () => boolean;
}

export class SipMetrics {
  readonly registry = new Registry();
  readonly authFailures: Counter<'reason'>;

  constructor(sources: SipMetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'callwatch_' });

    const requestCounts = new PendingCounts<'direction' | 'method'>();
    const responseCounts = new PendingCounts<'direction' | 'method' | 'class'>();
    new Counter({
      name: 'callwatch_sip_requests_total',
      help: 'SIP requests received (in) and sent (out), by method',
      labelNames: ['direction', 'method'] as const,
      registers,
      collect() {
        requestCounts.flush(this);
      },
    });
    new Counter({
      name: 'callwatch_sip_responses_total',
      help: 'SIP responses received (in) and sent (out), by method and status class',
      labelNames: ['direction', 'method', 'class'] as const,
      registers,
      collect() {
        responseCounts.flush(this);
      },
    });
    const countRequest = (direction: 'in' | 'out', method: string): void => {
      const label = methodLabel(method);
      requestCounts.add(`${direction} ${label}`, () => ({ direction, method: label }));
    };
    const countResponse = (direction: 'in' | 'out', message: SipResponse): void => {
      const method = responseMethod(message);
      const statusClass = `${Math.floor(message.status / 100)}xx`;
      responseCounts.add(`${direction} ${method} ${statusClass}`, () => ({
        direction,
        method,
        class: statusClass,
      }));
    };
    const parseErrors = new Counter({
      name: 'callwatch_sip_parse_errors_total',
      help: 'SIP messages that could not be used, by transport and whether they were answered',
      labelNames: ['transport', 'answered'] as const,
      registers,
    });
    this.authFailures = new Counter({
      name: 'callwatch_sip_auth_failures_total',
      help: 'Digest authentication failures, by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    new Gauge({
      name: 'callwatch_registrations_active',
      help: 'Registered contacts (bindings) currently active',
      registers,
      collect() {
        this.set(sources.location.size);
      },
    });
    new Gauge({
      name: 'callwatch_registered_extensions',
      help: 'Extensions with at least one registered contact',
      registers,
      collect() {
        this.set(sources.location.extensions().length);
      },
    });
    new Gauge({
      name: 'callwatch_sip_transactions_active',
      help: 'SIP transactions in progress, by kind',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const t = sources.transactions();
        this.set({ kind: 'client' }, t.client);
        this.set({ kind: 'server' }, t.server);
      },
    });
    new Gauge({
      name: 'callwatch_sip_tcp_connections',
      help: 'Open SIP TCP connections',
      registers,
      collect() {
        this.set(sources.transport.tcpConnections);
      },
    });
    new Gauge({
      name: 'callwatch_sip_websocket_connections',
      help: 'Open SIP over WebSocket connections (browsers, RFC 7118)',
      registers,
      collect() {
        this.set(sources.transport.webSocketConnections);
      },
    });

    sources.transport.on('request', (req) => countRequest('in', req.method));
    sources.transport.on('response', (res) => countResponse('in', res));
    sources.transport.on('sent', (msg) => {
      if (msg.kind === 'request') countRequest('out', msg.method);
      else countResponse('out', msg);
    });
    const shed = new Counter({
      name: 'callwatch_sip_overload_rejections_total',
      help: 'New SIP requests refused with 503 + Retry-After because the SIP thread was overloaded, by method',
      labelNames: ['method'] as const,
      registers,
    });
    const overloaded = sources.overloaded;
    new Gauge({
      name: 'callwatch_sip_overloaded',
      help: '1 while the SIP thread is overloaded and sheds new requests, else 0',
      registers,
      collect() {
        this.set(overloaded?.() ? 1 : 0);
      },
    });
    sources.stack?.on('shed', (req) => shed.inc({ method: methodLabel(req.method) }));
    sources.transport.on('invalid', (_reason, source, answered) =>
      parseErrors.inc({ transport: source.protocol, answered: answered ? 'yes' : 'no' }),
    );
  }
}
