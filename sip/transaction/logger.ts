/** The slice of a pino logger the transaction layer uses (a pino Logger fits). */
export interface TransactionLogger {
  child(bindings: Record<string, unknown>): TransactionLogger;
  debug(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** pino's check; when present, per-transaction loggers are only made if debug is on. */
  isLevelEnabled?(level: string): boolean;
}
