/**
 * pino logger for the process: JSON lines on standard output. Modules take a child
 * (`logger.child({ module: 'registrar' })`), transactions and calls a child of that.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { name: 'callwatch' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
