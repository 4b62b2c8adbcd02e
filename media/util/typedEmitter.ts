/**
 * A small typed event emitter (docs/architecture.md §15.7, after mediasoup). Each event name
 * maps to its argument tuple; a throwing listener is reported through `onListenerError`
 * and never unwinds into the code that emitted (a metrics bug must not break media).
 * There is no special 'error' event that crashes without listeners. (A copy of
 * sip/util/typedEmitter.ts: media/ imports nothing from sip/ or src/.)
 */
export type EventMap = Record<string, unknown[]>;

type Listeners<E extends EventMap> = { [K in keyof E]?: Set<(...args: E[K]) => void> };

export class TypedEmitter<E extends EventMap> {
  private readonly listeners: Listeners<E> = {};

  constructor(
    private readonly onListenerError: (error: unknown, event: keyof E) => void = () => {},
  ) {}

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    (this.listeners[event] ??= new Set()).add(listener);
    return this;
  }

  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    this.listeners[event]?.delete(listener);
    return this;
  }

  /** Calls every listener of `event` in order; exceptions go to `onListenerError`. */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners[event];
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }

  listenerCount(event: keyof E): number {
    return this.listeners[event]?.size ?? 0;
  }

  removeAllListeners(): void {
    for (const key of Object.keys(this.listeners) as (keyof E)[]) delete this.listeners[key];
  }
}
