#!/usr/bin/env node
/**
 * The command-line entry point: `callwatch [--config FILE]`.
 *
 * The config comes from --config, else the CALLWATCH_CONFIG environment variable, else
 * the packaged config/default.yaml (the demo). A bad config prints every problem with
 * its key and exits 2. A start that fails (a port taken, a folder that cannot be made)
 * closes whatever it had opened, prints why (naming the config key) and exits 1.
 * SIGTERM/SIGINT close every socket and timer, then exit 0.
 *
 * An unhandled rejection or an uncaught exception is a bug whose damage we cannot bound
 * (a call, a worker or the audit log may be left half-updated), so the server does not
 * go on: the error is logged (fatal), the server is closed as for SIGTERM, and the
 * process exits 1 for a supervisor (systemd, Docker) to restart it. The shutdown is
 * bounded: if it does not finish in SHUTDOWN_BOUND_MS the process exits 1 anyway.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load.js';
import { createLogger, type Logger } from './logging.js';
import { startServer, type RunningServer } from './server.js';

const USAGE = `usage: callwatch [--config FILE]

  -c, --config FILE   YAML configuration (default: $CALLWATCH_CONFIG, else config/default.yaml)
  -h, --help          show this help
`;

const DEFAULT_CONFIG = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

/** A shutdown that takes longer than this (a stuck close) ends with exit code 1. */
const SHUTDOWN_BOUND_MS = 10_000;
/** After main() is done, Node should exit by itself; past this, something was left open. */
const EXIT_GRACE_MS = 2000;

let logger: Logger | undefined;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`callwatch: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const configPath = args.values.config ?? process.env.CALLWATCH_CONFIG ?? DEFAULT_CONFIG;

  let config;
  try {
    config = await loadConfig(configPath);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`callwatch: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const log = createLogger(config.log.level);
  logger = log;
  // Signal and fatal-error handlers first: a SIGTERM (or a bug) that strikes while sockets
  // are being bound must still shut down cleanly rather than kill the process mid-start.
  let server: RunningServer | undefined;
  let stopping = false;
  let exitCode = 0;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const shutdown = (reason: string, code: number) => {
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    setTimeout(() => {
      log.error({ boundMs: SHUTDOWN_BOUND_MS }, 'shutdown did not finish in time: exiting');
      finish(1);
    }, SHUTDOWN_BOUND_MS).unref();
    (server ? server.close() : Promise.resolve())
      .then(() => {
        log.info('stopped');
        finish(exitCode);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'error during shutdown');
        finish(1);
      });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      finish(1);
      return;
    }
    shutdown(signal, 0);
  };
  const onFatal = (kind: 'unhandledRejection' | 'uncaughtException') => (err: unknown) => {
    log.fatal({ err, kind }, `${kind}: the server cannot be trusted to go on; shutting down`);
    shutdown(kind, 1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', onFatal('unhandledRejection'));
  process.on('uncaughtException', onFatal('uncaughtException'));

  try {
    server = await startServer(config, { logger: log });
  } catch (err) {
    // Everything it had opened is closed again (startServer is transactional).
    log.fatal({ err }, 'cannot start');
    process.stderr.write(`callwatch: ${(err as Error).message}\n`);
    return 1;
  }
  log.info({ config: configPath }, 'config loaded');
  // A signal during start-up found no server to close: close it now.
  if (stopping) await server.close();
  return finished;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed: Node exits once stdout is flushed. A stuck handle must not
    // keep a stopped server alive, so leave after a grace period regardless, saying what
    // was still open (a leak to fix).
    setTimeout(() => {
      logger?.warn(
        { resources: process.getActiveResourcesInfo() },
        'still open at exit: forcing it',
      );
      process.exit(code);
    }, EXIT_GRACE_MS).unref();
  },
  (err: unknown) => {
    process.stderr.write(`callwatch: fatal: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
