/**
 * A client of the event stream (`GET /v1/events`) for tests: connects with a token (as
 * a header or `?token=`), queues every JSON message, and reports the close code.
 *
 *   const events = await EventStreamClient.connect(port, { token });
 *   const e = await events.next((e) => e.type === 'registration.changed');
 *   await events.close();
 */
import WebSocket from 'ws';

export interface StreamEvent {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly [k: string]: unknown;
}

export interface ConnectOptions {
  /** The bearer token; none: no credentials. */
  token?: string;
  /** Send the token as `?token=` instead of the Authorization header. */
  tokenInQuery?: boolean;
  /** `?since=` */
  since?: number;
  host?: string;
  timeoutMs?: number;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export class EventStreamClient {
  /** Every event received so far, in arrival order. */
  readonly received: StreamEvent[] = [];
  /** Resolves when the socket closes (by either side). */
  readonly closed: Promise<CloseInfo>;
  private cursor = 0;
  private waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    socket.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as StreamEvent);
      this.wake();
    });
    socket.on('error', () => {}); // reported through 'close'
  }

  /** The URL of the stream on `port`. */
  static url(port: number, opts: ConnectOptions = {}): string {
    const query = new URLSearchParams();
    if (opts.since !== undefined) query.set('since', String(opts.since));
    if (opts.tokenInQuery && opts.token !== undefined) query.set('token', opts.token);
    const q = query.toString();
    return `ws://${opts.host ?? '127.0.0.1'}:${port}/v1/events${q ? `?${q}` : ''}`;
  }

  /** Opens the socket; resolves once it is open (or closed straight away, e.g. 4401). */
  static connect(port: number, opts: ConnectOptions = {}): Promise<EventStreamClient> {
    const headers =
      opts.token !== undefined && !opts.tokenInQuery
        ? { authorization: `Bearer ${opts.token}` }
        : undefined;
    const socket = new WebSocket(EventStreamClient.url(port, opts), { headers });
    const client = new EventStreamClient(socket);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error('event stream: no open within timeout'));
      }, opts.timeoutMs ?? 5000);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      socket.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        socket.terminate();
        reject(new Error(`event stream: HTTP ${res.statusCode}`));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** The next event (after those already taken by next()) that matches; skips others. */
  async next(
    match: (e: StreamEvent) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<StreamEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const e = this.received[this.cursor++] as StreamEvent;
        if (match(e)) return e;
      }
      if (this.socket.readyState === WebSocket.CLOSED) {
        throw new Error('event stream closed while waiting for an event');
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Waits until `count` events have arrived in total (or throws). */
  async waitForCount(count: number, timeoutMs = 5000): Promise<StreamEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`${this.received.length} of ${count} events within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
        this.waiters.add(wake);
      });
    }
    return this.received.slice(0, count);
  }

  /** Closes (normal closure) and waits for the close; idempotent. */
  async close(): Promise<CloseInfo> {
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    ) {
      this.socket.close(1000);
    }
    return this.closed;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
