/**
 * The dial plan: where a call goes, decided from who places it and the number dialled.
 * Pure: the caller supplies the config and a view of registrations.
 *
 * - From a trunk: the Request-URI user is a DID; it rings the extension the DID maps to,
 *   or enters the queue it maps to (docs/architecture.md §9.5).
 * - From an extension: an extension number rings that extension, a queue number enters
 *   that queue; a number starting with a trunk prefix leaves through that trunk (longest
 *   prefix wins).
 * - Otherwise 404. An extension with no registered contact is 480 (RFC 3261 §21.4.18).
 */
import type { ExtensionConfig, QueueConfig, TrunkConfig } from '../config/schema.js';

export type Caller = { kind: 'extension'; extension: string } | { kind: 'trunk'; trunk: string };

export type Destination =
  | { kind: 'extension'; extension: string }
  | { kind: 'trunk'; trunk: TrunkConfig; number: string }
  | { kind: 'queue'; queue: QueueConfig }
  | { kind: 'reject'; status: 404 | 480 | 403; reason: string };

export type CallDirection = 'internal' | 'inbound' | 'outbound';

export interface DialPlanDeps {
  extensions: ReadonlyMap<string, ExtensionConfig>;
  trunks: readonly TrunkConfig[];
  queues: ReadonlyMap<string, QueueConfig>;
  isRegistered(extension: string): boolean;
}

export function route(caller: Caller, dialled: string, deps: DialPlanDeps): Destination {
  if (caller.kind === 'trunk') {
    const trunk = deps.trunks.find((t) => t.name === caller.trunk);
    const target = trunk?.dids[dialled];
    if (target === undefined) return { kind: 'reject', status: 404, reason: 'Unknown DID' };
    const didQueue = deps.queues.get(target);
    return didQueue !== undefined ? { kind: 'queue', queue: didQueue } : toExtension(target, deps);
  }
  if (deps.extensions.has(dialled)) return toExtension(dialled, deps);
  const queue = deps.queues.get(dialled);
  if (queue !== undefined) return { kind: 'queue', queue };
  let best: { trunk: TrunkConfig; prefix: string } | undefined;
  for (const trunk of deps.trunks) {
    for (const prefix of trunk.prefixes) {
      if (dialled.startsWith(prefix) && dialled.length > prefix.length) {
        if (!best || prefix.length > best.prefix.length) best = { trunk, prefix };
      }
    }
  }
  if (best) {
    const number = best.trunk.stripPrefix ? dialled.slice(best.prefix.length) : dialled;
    return { kind: 'trunk', trunk: best.trunk, number };
  }
  return { kind: 'reject', status: 404, reason: 'No Such Number' };
}

function toExtension(extension: string, deps: DialPlanDeps): Destination {
  if (!deps.extensions.has(extension)) return { kind: 'reject', status: 404, reason: 'Not Found' };
  if (!deps.isRegistered(extension)) {
    return { kind: 'reject', status: 480, reason: 'Not Registered' };
  }
  return { kind: 'extension', extension };
}

export function directionOf(caller: Caller, destination: Destination): CallDirection {
  if (caller.kind === 'trunk') return 'inbound';
  return destination.kind === 'trunk' ? 'outbound' : 'internal';
}

/** The trunk a request came from, by source address (and port when configured). */
export function trunkForSource(
  trunks: readonly TrunkConfig[],
  address: string,
  port: number,
): TrunkConfig | undefined {
  return trunks.find(
    (t) =>
      (t.host === address || t.extraSourceAddresses.includes(address)) &&
      (t.sourcePort === null || t.sourcePort === port),
  );
}

/** A call's destination as a caller: who a transfer from that side dials as. */
export function callerOf(destination: Destination): Caller {
  if (destination.kind === 'extension') {
    return { kind: 'extension', extension: destination.extension };
  }
  return { kind: 'trunk', trunk: destination.kind === 'trunk' ? destination.trunk.name : '' };
}

/** The extension a destination is, if it is one. */
export function extensionOf(destination: Destination): string | undefined {
  return destination.kind === 'extension' ? destination.extension : undefined;
}
