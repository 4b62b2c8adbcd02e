/**
 * Work started from a callback that cannot await it (a timer, an event, a SIP answer):
 * its rejection is logged with context instead of becoming an unhandled rejection, which
 * the CLI treats as fatal. eslint's no-floating-promises keeps every such promise in src/
 * either awaited or handed here (or given its own `.catch`).
 */
import type { Logger } from '../logging.js';

export function inBackground(
  work: Promise<unknown>,
  log: Pick<Logger, 'error'>,
  message: string,
  context: Record<string, unknown> = {},
): void {
  work.catch((err: unknown) => {
    log.error({ ...context, err }, message);
  });
}
