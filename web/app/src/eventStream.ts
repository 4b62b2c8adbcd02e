/**
 * The event stream (`/v1/events`, a WebSocket authenticated by the session cookie) with
 * resumption: after a dropped connection it reconnects (0.5 s, doubling to 5 s) with
 * `?since=<last seq seen>`, so the server replays what was missed; `onOpen` tells the
 * screen to reload its list too (a replay can be incomplete after a long gap). No polling.
 */
export interface StreamEvent {
  seq: number;
  time: string;
  type: string;
  callId?: string | null;
  [key: string]: unknown;
}

export interface EventStreamOptions {
  onEvent(event: StreamEvent): void;
  /** Connected; `resumed` when this is a reconnection with ?since=. */
  onOpen?(resumed: boolean): void;
  onState?(connected: boolean): void;
  /** Tests: a WebSocket stand-in and a URL base. */
  WebSocketImpl?: typeof WebSocket;
  base?: string;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5000;
/** Close codes the server uses for a refused session: reconnecting will not help. */
const REFUSED = new Set([4401, 4403]);

export class EventStream {
  private socket: WebSocket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private delay = FIRST_DELAY_MS;
  private stopped = false;
  private opened = false;
  lastSeq = 0;

  constructor(private readonly options: EventStreamOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s !== undefined) {
      s.close(1000, 'bye');
      this.options.onState?.(false);
    }
  }

  /** The socket now (tests drop it). */
  get current(): WebSocket | undefined {
    return this.socket;
  }

  private url(): string {
    const base =
      this.options.base ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
    return `${base}/v1/events${this.lastSeq > 0 ? `?since=${this.lastSeq}` : ''}`;
  }

  private connect(): void {
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    const resumed = this.opened;
    const socket = new Impl(this.url());
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.opened = true;
      this.delay = FIRST_DELAY_MS;
      this.options.onState?.(true);
      this.options.onOpen?.(resumed);
    };
    socket.onmessage = (message: MessageEvent) => {
      if (socket !== this.socket) return;
      let event: StreamEvent;
      try {
        event = JSON.parse(String(message.data)) as StreamEvent;
      } catch {
        return;
      }
      if (typeof event.seq === 'number') {
        if (event.seq <= this.lastSeq) return; // a replayed duplicate
        this.lastSeq = event.seq;
      }
      this.options.onEvent(event);
    };
    socket.onclose = (close: CloseEvent) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.options.onState?.(false);
      if (this.stopped || REFUSED.has(close.code)) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.stopped) this.connect();
      }, this.delay);
      this.delay = Math.min(MAX_DELAY_MS, this.delay * 2);
    };
  }
}
