// SIGTERM/SIGINT handling for a service process: the first signal starts a graceful stop; further signals
// during it are logged and wait for the same stop instead of cutting it short; the process exits 0 when done.
import type { Logger } from 'pino';

export function stopOnSignals(
  logger: Logger,
  stop: () => Promise<void>,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let stopping: Promise<void> | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) {
        logger.info({ event: 'shutdown_pending', signal }, 'already shutting down; waiting for it to finish');
        return;
      }
      logger.info({ event: 'shutdown', signal }, 'shutting down');
      stopping = stop().then(
        () => exit(0),
        (err: unknown) => {
          logger.error({ event: 'shutdown_failed', error: (err as Error).message }, 'shutdown failed');
          exit(1);
        },
      );
    });
  }
}
