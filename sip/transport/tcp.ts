/**
 * TCP transport (RFC 3261 §18): a listening socket plus outbound connections, each
 * framed by StreamFramer. Responses go back over the connection a request came on
 * (§18.2.2); requests to a TCP destination reuse an open connection to it or open one.
 * Idle connections are reaped; a connection that breaks framing is closed.
 */
import net from 'node:net';
import type { Clock, TimerHandle } from '../clock.js';
import { StreamFramer } from './streamFramer.js';
import type { Endpoint, Source } from './types.js';
import type { TransportHandler } from './udp.js';

export interface TcpTransportOptions {
  address: string;
  port: number;
  maxMessageBytes: number;
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
  /** New connections beyond this are refused. */
  maxConnections?: number;
  clock: Clock;
}

interface Connection {
  id: number;
  socket: net.Socket;
  framer: StreamFramer;
  remote: Source;
  lastActivity: number;
}

const remoteKey = (address: string, port: number) => `${address}:${port}`;

export class TcpTransport {
  readonly protocol = 'tcp' as const;
  private readonly connections = new Map<number, Connection>();
  private readonly byRemote = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  private reaper: TimerHandle | undefined;

  private constructor(
    private readonly server: net.Server,
    private readonly options: TcpTransportOptions,
    private readonly handler: TransportHandler,
    readonly address: string,
    readonly port: number,
  ) {}

  static listen(options: TcpTransportOptions, handler: TransportHandler): Promise<TcpTransport> {
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.port, host: options.address, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        const local = server.address() as net.AddressInfo;
        const transport = new TcpTransport(server, options, handler, local.address, local.port);
        server.on('connection', (socket) => transport.accept(socket));
        transport.armReaper();
        resolve(transport);
      });
    });
  }

  /** Open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Sends over `dest.connectionId` when that connection is open, else over any open
   * connection to the same address and port, else over a new connection.
   */
  send(data: Buffer, dest: Source | Endpoint): void {
    if (this.closed) return;
    const byId =
      'connectionId' in dest && dest.connectionId !== undefined
        ? this.connections.get(dest.connectionId)
        : undefined;
    const id = byId?.id ?? this.byRemote.get(remoteKey(dest.address, dest.port));
    const conn = id !== undefined ? this.connections.get(id) : undefined;
    if (conn) {
      conn.lastActivity = this.options.clock.now();
      conn.socket.write(data);
      return;
    }
    const socket = net.connect({ host: dest.address, port: dest.port });
    this.register(socket, dest.address, dest.port);
    socket.write(data);
  }

  private accept(socket: net.Socket): void {
    if (this.closed || this.connections.size >= (this.options.maxConnections ?? 4096)) {
      socket.destroy();
      return;
    }
    this.register(socket, socket.remoteAddress ?? '', socket.remotePort ?? 0);
  }

  private register(socket: net.Socket, address: string, port: number): void {
    const id = this.nextId++;
    const remote: Source = { protocol: 'tcp', address, port, connectionId: id };
    const conn: Connection = {
      id,
      socket,
      framer: new StreamFramer(this.options.maxMessageBytes),
      remote,
      lastActivity: this.options.clock.now(),
    };
    this.connections.set(id, conn);
    this.byRemote.set(remoteKey(address, port), id);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.forget(conn));
  }

  private onData(conn: Connection, chunk: Buffer): void {
    conn.lastActivity = this.options.clock.now();
    for (const event of conn.framer.push(chunk)) {
      if (event.kind === 'message') this.handler.onMessage(event.data, conn.remote);
      else if (event.kind === 'ping') conn.socket.write('\r\n');
      else {
        this.handler.onDiscard?.(event.reason, conn.remote);
        conn.socket.destroy();
      }
    }
  }

  private forget(conn: Connection): void {
    this.connections.delete(conn.id);
    const key = remoteKey(conn.remote.address, conn.remote.port);
    if (this.byRemote.get(key) === conn.id) this.byRemote.delete(key);
  }

  private armReaper(): void {
    const period = Math.max(250, Math.min(this.options.idleTimeoutMs / 4, 30_000));
    this.reaper = this.options.clock.setTimer(period, () => {
      const cutoff = this.options.clock.now() - this.options.idleTimeoutMs;
      for (const conn of this.connections.values()) {
        if (conn.lastActivity <= cutoff) conn.socket.destroy();
      }
      if (!this.closed) this.armReaper();
    });
  }

  /** Closes the listener and every connection. Idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.reaper?.cancel();
    for (const conn of this.connections.values()) conn.socket.destroy();
    this.connections.clear();
    this.byRemote.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
