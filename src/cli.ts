#!/usr/bin/env node
/**
 * The command-line entry point: `callwatch [--config FILE]`.
 *
 * The config comes from --config, else the CALLWATCH_CONFIG environment variable, else
 * the packaged config/default.yaml (the demo). A bad config prints every problem with
 * its key and exits 2. SIGTERM/SIGINT close every socket and timer, then exit 0.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load.js';
import { createLogger } from './logging.js';
import { startServer, type RunningServer } from './server.js';

const USAGE = `usage: callwatch [--config FILE]

  -c, --config FILE   YAML configuration (default: $CALLWATCH_CONFIG, else config/default.yaml)
  -h, --help          show this help
`;

const DEFAULT_CONFIG = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

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

  const logger = createLogger(config.log.level);
  // Signal handlers first: a SIGTERM that arrives while sockets are being bound must
  // still shut down cleanly rather than kill the process mid-start.
  let server: RunningServer | undefined;
  let stopping = false;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      finish(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    (server ? server.close() : Promise.resolve())
      .then(() => {
        logger.info('stopped');
        finish(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        finish(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  try {
    server = await startServer(config, { logger });
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    return 1;
  }
  logger.info({ config: configPath }, 'config loaded');
  // A signal during start-up found no server to close: close it now.
  if (stopping) await server.close();
  return finished;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed: Node exits once stdout is flushed. A stuck handle must not
    // keep a stopped server alive, so leave after a grace period regardless.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`callwatch: fatal: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
