/**
 * Whether a supervisor is there to join calls (docs/architecture.md §11.1, presence):
 * `available`, `away` or `dnd` per extension, kept in memory (a restart makes everyone
 * available again, the default). Only an available supervisor may start monitoring; the
 * monitoring service asks statusOf() in its checks (refusal `monitor-unavailable`).
 * Emits `changed` when a status really changes (setting the same status again is quiet).
 */
import { TypedEmitter } from '../../sip/util/typedEmitter.js';

export const PRESENCE_STATUSES = ['available', 'away', 'dnd'] as const;

export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

export type PresenceEvents = {
  changed: [{ extension: string; status: PresenceStatus }];
};

export class SupervisorPresence extends TypedEmitter<PresenceEvents> {
  /** Only the statuses other than the default are kept. */
  private readonly statuses = new Map<string, Exclude<PresenceStatus, 'available'>>();

  statusOf(extension: string): PresenceStatus {
    return this.statuses.get(extension) ?? 'available';
  }

  /** Sets `extension`'s status; returns it. Emits `changed` when it differs. */
  set(extension: string, status: PresenceStatus): PresenceStatus {
    if (this.statusOf(extension) === status) return status;
    if (status === 'available') this.statuses.delete(extension);
    else this.statuses.set(extension, status);
    this.emit('changed', { extension, status });
    return status;
  }
}
