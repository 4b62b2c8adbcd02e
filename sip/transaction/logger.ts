/** The slice of a pino logger the transaction layer uses (a pino Logger fits). */
export interface TransactionLogger {
  child(bindings: Record<string, unknown>): TransactionLogger;
  debug(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
