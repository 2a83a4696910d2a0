import { ConfigError } from './config';
import { createLogger, type Logger } from './logger';

export interface RunningService {
  stop(): Promise<void>;
}

/**
 * Runs a service as a process: starts it, and on SIGTERM or SIGINT stops it within
 * `shutdownTimeoutMs`, exiting 0 after a clean stop and 1 otherwise.
 * A broker or database fault never reaches here: those are handled where they occur.
 */
export function runAsProcess(
  logger: Logger,
  start: () => Promise<RunningService>,
  shutdownTimeoutMs = 20_000,
): void {
  let running: RunningService | undefined;
  let stopping = false;

  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ shutdownTimeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, shutdownTimeoutMs);
    deadline.unref();
    Promise.resolve(running?.stop())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };

  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });

  start()
    .then((service) => {
      running = service;
      if (stopping) void service.stop();
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, 'failed to start');
      process.exit(1);
    });
}

/**
 * The entry point of a service process: reads its configuration (exiting with every
 * problem listed when it is invalid), then runs it until SIGTERM or SIGINT.
 */
export function runServiceMain<C extends { LOG_LEVEL: string }>(
  service: string,
  readConfig: () => C,
  start: (config: C, logger: Logger) => Promise<RunningService>,
): void {
  let config: C;
  try {
    config = readConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${service}: ${err.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(service, config.LOG_LEVEL);
  runAsProcess(logger, () => start(config, logger));
}
