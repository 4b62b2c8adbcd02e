/**
 * Coded errors of the transaction layer (docs/architecture.md §15.8). Each carries
 * a stable `code` callers can test instead of matching messages.
 */
export type TransactionErrorCode =
  /** A timer configuration with a non-positive value or T2 < T1. */
  | 'ERR_BAD_TIMERS'
  /** sendRequest() got a request without a top Via branch. */
  | 'ERR_NO_BRANCH'
  /** sendRequest() got a branch + method that an active client transaction already uses. */
  | 'ERR_DUPLICATE_TRANSACTION'
  /** sendRequest() got an ACK: ACKs for 2xx are sent by the TU outside any transaction. */
  | 'ERR_ACK_NOT_A_TRANSACTION';

export class TransactionError extends Error {
  constructor(
    readonly code: TransactionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TransactionError';
  }
}

/** A method called on a closed layer, or a response the transaction's state forbids. */
export class InvalidStateError extends Error {
  readonly code = 'ERR_INVALID_STATE';

  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }
}
