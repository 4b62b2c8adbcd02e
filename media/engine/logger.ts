/**
 * The slice of a pino logger the media engine uses (a pino Logger fits; docs/architecture.md §15.9: one
 * logger per thing, never console). The engine logs through `child({ module: 'media' })`
 * and forwards the workers' log events to it; nothing is logged per packet.
 */
export interface MediaLogger {
  child(bindings: Record<string, unknown>): MediaLogger;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The default: discards everything. */
export const silentLogger: MediaLogger = {
  child: () => silentLogger,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
