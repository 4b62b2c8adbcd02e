/**
 * A registration binding as shared between instances: JSON with times made relative
 * (each instance's clock has its own origin), and the instance that accepted it. Pure.
 */
import type { Binding } from '../registrar/locationService.js';

export interface SharedBinding {
  origin: string;
  extension: string;
  contact: string;
  uri: string;
  key: string;
  callId: string;
  cseq: number;
  /** Milliseconds left until the binding lapses, when written. */
  remainingMs: number;
  /** Milliseconds since it was registered, when written. */
  ageMs: number;
  source: { protocol: Binding['source']['protocol']; address: string; port: number };
  userAgent?: string;
}

export type BindingChange =
  | { op: 'up'; binding: SharedBinding }
  | { op: 'down'; origin: string; extension: string; key: string };

/**
 * Whether another instance can reach the phone through this binding's source. A binding
 * over a connection (TCP, a browser's WebSocket) lives and dies with a connection that
 * ends at this instance, so only UDP bindings are shared.
 */
export function shareable(binding: Binding): boolean {
  return binding.source.protocol === 'udp';
}

export function toShared(binding: Binding, origin: string, now: number): SharedBinding {
  const shared: SharedBinding = {
    origin,
    extension: binding.extension,
    contact: binding.contact,
    uri: binding.uri,
    key: binding.key,
    callId: binding.callId,
    cseq: binding.cseq,
    remainingMs: Math.max(0, Math.round(binding.expiresAt - now)),
    ageMs: Math.max(0, Math.round(now - binding.registeredAt)),
    source: {
      protocol: binding.source.protocol,
      address: binding.source.address,
      port: binding.source.port,
    },
  };
  if (binding.userAgent !== undefined) shared.userAgent = binding.userAgent;
  return shared;
}

/** Back to a local binding; `remainingMs` overrides the written one (a key's PTTL). */
export function fromShared(shared: SharedBinding, now: number, remainingMs?: number): Binding {
  const binding: Binding = {
    extension: shared.extension,
    contact: shared.contact,
    uri: shared.uri,
    key: shared.key,
    callId: shared.callId,
    cseq: shared.cseq,
    expiresAt: now + (remainingMs ?? shared.remainingMs),
    registeredAt: now - shared.ageMs,
    source: { ...shared.source },
  };
  if (shared.userAgent !== undefined) binding.userAgent = shared.userAgent;
  return binding;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Parses a stored or published binding; undefined when it is not one. */
export function parseSharedBinding(v: unknown): SharedBinding | undefined {
  if (!isRecord(v)) return undefined;
  const s = v.source;
  const strings = ['origin', 'extension', 'contact', 'uri', 'key', 'callId'] as const;
  if (strings.some((k) => typeof v[k] !== 'string')) return undefined;
  if (typeof v.cseq !== 'number' || typeof v.remainingMs !== 'number') return undefined;
  if (typeof v.ageMs !== 'number') return undefined;
  if (!isRecord(s) || typeof s.address !== 'string' || typeof s.port !== 'number') {
    return undefined;
  }
  if (!['udp', 'tcp', 'ws', 'wss'].includes(s.protocol as string)) return undefined;
  if (v.userAgent !== undefined && typeof v.userAgent !== 'string') return undefined;
  return v as unknown as SharedBinding;
}

/** Parses a message of the binding channel; undefined when it is not one. */
export function parseBindingChange(text: string): BindingChange | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  if (v.op === 'up') {
    const binding = parseSharedBinding(v.binding);
    return binding === undefined ? undefined : { op: 'up', binding };
  }
  if (
    v.op === 'down' &&
    typeof v.origin === 'string' &&
    typeof v.extension === 'string' &&
    typeof v.key === 'string'
  ) {
    return { op: 'down', origin: v.origin, extension: v.extension, key: v.key };
  }
  return undefined;
}
