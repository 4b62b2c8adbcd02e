/**
 * The location service (RFC 3261 §10.2, §10.3): which contacts each extension is
 * reachable at, until when. Pure state driven by a clock reading passed in; emits typed
 * events for the parts that react to registrations (calls, metrics, the event stream).
 */
import { sameFlow, type Source } from '../../sip/transport/types.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';

export interface Binding {
  extension: string;
  /** The Contact header value exactly as the phone sent it. */
  contact: string;
  /** The contact URI text (between `<` and `>`), as sent. */
  uri: string;
  /** Key for URI equality (RFC 3261 §19.1.4, simplified), see contactKey(). */
  key: string;
  callId: string;
  cseq: number;
  /** Clock time (ms) when the binding lapses. */
  expiresAt: number;
  registeredAt: number;
  /** Where the REGISTER came from (the phone's real address, behind NAT too). */
  source: Source;
  userAgent?: string;
  /** Set on a binding mirrored from another instance: the instance that accepted it. */
  origin?: string;
}

/** `flow-closed`: the connection it was registered over closed (a WebSocket, RFC 7118 §5). */
export type UnregisterReason = 'removed' | 'expired' | 'replaced' | 'flow-closed';

export type LocationEvents = {
  registered: [binding: Binding];
  refreshed: [binding: Binding];
  unregistered: [binding: Binding, reason: UnregisterReason];
};

export class LocationService extends TypedEmitter<LocationEvents> {
  private readonly byExtension = new Map<string, Binding[]>();
  private count = 0;

  /** Current bindings of an extension (possibly lapsed but not yet swept). */
  bindingsOf(extension: string): readonly Binding[] {
    return this.byExtension.get(extension) ?? [];
  }

  /** Live bindings of an extension at `now`. */
  activeBindings(extension: string, now: number): Binding[] {
    return this.bindingsOf(extension).filter((b) => b.expiresAt > now);
  }

  extensions(): string[] {
    return [...this.byExtension.keys()];
  }

  get size(): number {
    return this.count;
  }

  /** Adds or replaces a binding (same extension and key). */
  upsert(binding: Binding): void {
    const list = this.byExtension.get(binding.extension) ?? [];
    const at = list.findIndex((b) => b.key === binding.key);
    if (at >= 0) {
      list[at] = binding;
      this.emit('refreshed', binding);
    } else {
      list.push(binding);
      this.byExtension.set(binding.extension, list);
      this.count++;
      this.emit('registered', binding);
    }
  }

  remove(extension: string, key: string, reason: UnregisterReason): void {
    const list = this.byExtension.get(extension);
    const at = list?.findIndex((b) => b.key === key) ?? -1;
    if (!list || at < 0) return;
    const [removed] = list.splice(at, 1);
    if (list.length === 0) this.byExtension.delete(extension);
    this.count--;
    if (removed) this.emit('unregistered', removed, reason);
  }

  removeAll(extension: string, reason: UnregisterReason): void {
    for (const b of [...this.bindingsOf(extension)]) this.remove(extension, b.key, reason);
  }

  /**
   * Removes every binding registered over `flow` (RFC 5626 §3: a flow's bindings die with
   * it; a browser's `.invalid` Contact cannot be reached another way). Returns them.
   */
  removeFlow(flow: Source): Binding[] {
    const gone: Binding[] = [];
    for (const [extension, list] of [...this.byExtension]) {
      for (const b of [...list]) {
        if (!sameFlow(b.source, flow)) continue;
        if (flow.connectionId !== undefined && b.source.connectionId !== flow.connectionId) {
          continue;
        }
        this.remove(extension, b.key, 'flow-closed');
        gone.push(b);
      }
    }
    return gone;
  }

  /** Removes every binding that lapsed at or before `now`. */
  sweep(now: number): void {
    for (const [extension, list] of [...this.byExtension]) {
      for (const b of [...list]) if (b.expiresAt <= now) this.remove(extension, b.key, 'expired');
    }
  }
}
