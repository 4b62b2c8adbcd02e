/**
 * Coded errors of the media engine (docs/architecture.md §15.8). Both sides of the
 * worker boundary use them: the worker turns a MediaError into an error reply, and the
 * engine rebuilds it on the main thread with the same `code`. Callers test `code`, never
 * messages.
 */
export type MediaErrorCode =
  /** An option or argument out of range or of the wrong shape (the message says which). */
  | 'ERR_INVALID_ARGUMENT'
  /** A command the worker could not read (version skew between engine and worker build). */
  | 'ERR_INVALID_COMMAND'
  /** The worker speaks another protocol version (stale `dist/`: run `npm run build`). */
  | 'ERR_PROTOCOL_MISMATCH'
  /** No leg with that id in the worker (it was closed). */
  | 'ERR_UNKNOWN_LEG'
  /** Routes connect legs of one worker only: create a call's legs with the same `group`. */
  | 'ERR_CROSS_WORKER'
  /** A listener with two or more sources: mixing is a room's job (MediaEngine.createRoom). */
  | 'ERR_MIX_UNSUPPORTED'
  /** No room with that id in the worker (it was closed). */
  | 'ERR_UNKNOWN_ROOM'
  /** The leg's routes belong to a room: change the room's participants, not the leg. */
  | 'ERR_IN_ROOM'
  /** The room's participants or tones are impossible (the message says why). */
  | 'ERR_ROOM'
  /** The recording file could not be created or written. */
  | 'ERR_RECORDING'
  /** Every port pair of the range is taken (or failed to bind). */
  | 'ERR_NO_PORTS'
  /** The RTP or RTCP port is bound by someone else (EADDRINUSE). */
  | 'ERR_PORT_IN_USE'
  /** Any other bind failure (EADDRNOTAVAIL, EACCES…). */
  | 'ERR_BIND'
  /** The worker did not answer within `requestTimeoutMs`. */
  | 'ERR_TIMEOUT'
  /** The worker thread failed to start or died. */
  | 'ERR_WORKER';

export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

/** A method called on a closed engine or leg (docs/architecture.md §15.3). */
export class InvalidStateError extends Error {
  readonly code = 'ERR_INVALID_STATE';

  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }
}
