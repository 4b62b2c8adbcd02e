/**
 * UDP sockets for legs. Addresses here are always IP literals (validate.ts), so the
 * socket gets a lookup that answers synchronously: Node's default (dns.lookup) defers
 * every unconnected send() to the next tick even for a literal, a cost paid per packet.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { MediaError } from '../engine/errors.js';

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string,
  family: number,
) => void;

function literalLookup(family: 4 | 6) {
  return (address: string, _options: LookupOneOptions, callback: LookupCallback): void => {
    callback(null, address, family);
  };
}

/**
 * A socket bound to `address`:`port`. Rejects with MediaError 'ERR_PORT_IN_USE' when the
 * port is taken (the engine then tries another pair) or 'ERR_BIND' for anything else.
 */
export function bindUdp(address: string, port: number): Promise<Socket> {
  const family = isIP(address) === 6 ? 6 : 4;
  const socket = createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    lookup: literalLookup(family),
  });
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      socket.close();
      const code = error.code === 'EADDRINUSE' ? 'ERR_PORT_IN_USE' : 'ERR_BIND';
      reject(new MediaError(code, `cannot bind ${address}:${port}: ${error.message}`));
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Closes `socket`; resolves once it is closed (the port is free by then). Never rejects. */
export function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // ERR_SOCKET_DGRAM_NOT_RUNNING: already closed
    }
  });
}
