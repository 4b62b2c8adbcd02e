/**
 * Direction attributes as send/receive flags (RFC 3264 §5.1, §6.1, §8.4). A direction
 * is always from the point of view of the SDP's author: `sendonly` in A's offer means
 * A sends and does not want to receive.
 */
import type { AudioStream, Direction } from './types.js';

export interface DirectionFlags {
  send: boolean;
  recv: boolean;
}

export function directionFlags(direction: Direction): DirectionFlags {
  return {
    send: direction === 'sendrecv' || direction === 'sendonly',
    recv: direction === 'sendrecv' || direction === 'recvonly',
  };
}

export function directionFromFlags(flags: DirectionFlags): Direction {
  if (flags.send) return flags.recv ? 'sendrecv' : 'sendonly';
  return flags.recv ? 'recvonly' : 'inactive';
}

/** The same media flow seen from the other end: sendonly ↔ recvonly. */
export function reverseDirection(direction: Direction): Direction {
  const { send, recv } = directionFlags(direction);
  return directionFromFlags({ send: recv, recv: send });
}

/** The common part of two directions (both must agree to send, both to receive). */
export function intersectDirections(a: Direction, b: Direction): Direction {
  const x = directionFlags(a);
  const y = directionFlags(b);
  return directionFromFlags({ send: x.send && y.send, recv: x.recv && y.recv });
}

/**
 * RFC 3264 §6.1: the answer to an offered direction, limited to what the answerer is
 * willing to do — sendonly → recvonly, recvonly → sendonly, inactive → inactive,
 * sendrecv → `willing`.
 */
export function answerDirection(offered: Direction, willing: Direction = 'sendrecv'): Direction {
  return intersectDirections(reverseDirection(offered), willing);
}

/**
 * The direction the peer really asks for: `c=0.0.0.0` (RFC 2543 hold, RFC 3264 §8.4)
 * means it receives nothing, whatever the attribute says.
 */
export function effectiveDirection(
  stream: Pick<AudioStream, 'direction' | 'nullAddress'>,
): Direction {
  if (!stream.nullAddress) return stream.direction;
  return directionFromFlags({ send: directionFlags(stream.direction).send, recv: false });
}

/** The peer has put the call on hold: it does not want to receive (RFC 3264 §8.4). */
export function isHeld(stream: Pick<AudioStream, 'direction' | 'nullAddress'>): boolean {
  return !directionFlags(effectiveDirection(stream)).recv;
}

/**
 * RFC 3264 §8.4: what to offer to put the other side on hold, given the direction we
 * use now — sendrecv → sendonly, recvonly → inactive (the others stay).
 */
export function holdDirection(current: Direction): Direction {
  return directionFromFlags({ send: directionFlags(current).send, recv: false });
}

/** What to offer to take the other side off hold: receive again (sendonly → sendrecv). */
export function resumeDirection(current: Direction): Direction {
  return directionFromFlags({ send: directionFlags(current).send, recv: true });
}
